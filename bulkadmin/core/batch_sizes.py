"""Batch sizes by default, in one place. A collection's `CollectionAdmin.batch_size` overrides
`DEFAULT_BATCH_SIZE` for its jobs; every operation also takes its own `batch_size=`."""

DEFAULT_BATCH_SIZE = 1000  # rows per server call: bulk functions, imports, exports, cleanup, sync, job parameters
UPDATE_BATCH_SIZE = 2000  # composed updates and deletes: each batch is three server calls (read, save undo, write)
UNDO_BATCH_SIZE = 500  # undo: each entry carries a whole pre-image to write back
