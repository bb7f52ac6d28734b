"""The bulkadmin example project: settings, urls and the example collections."""
