"""The core model layer: documents, the registry, safety checks, errors and the MongoDB connection."""
