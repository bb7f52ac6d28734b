"""The staff web admin: pages inside Django's admin for bulk operations and their jobs."""
