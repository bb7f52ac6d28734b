"""Operations: imports, bulk updates and deletes, undo, cleanup and sync, as plain functions."""
