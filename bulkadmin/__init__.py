"""bulkadmin: safe, fast MongoDB bulk operations for Django."""
