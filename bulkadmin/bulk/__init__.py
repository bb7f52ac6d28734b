"""The bulk service: `bulk_insert`, `bulk_update`, `bulk_delete`, `bulk_write`, `bulk_upsert`, and
the `BulkWriter` session behind them for operations that write batch by batch.

Async twins with the same names live in `bulkadmin.bulk.aio`.
"""

from bulkadmin.bulk.options import raise_failed_rows
from bulkadmin.bulk.results import BatchStat, BulkResult, FieldError, RowError, WriteConcernError
from bulkadmin.bulk.service import (
    BulkWriter,
    bulk_delete,
    bulk_insert,
    bulk_restore,
    bulk_update,
    bulk_upsert,
    bulk_write,
)
from bulkadmin.core.exceptions import BulkWriteError

__all__ = [
    "BatchStat",
    "BulkResult",
    "BulkWriteError",
    "BulkWriter",
    "FieldError",
    "RowError",
    "WriteConcernError",
    "bulk_delete",
    "bulk_insert",
    "bulk_restore",
    "bulk_update",
    "bulk_upsert",
    "bulk_write",
    "raise_failed_rows",
]
