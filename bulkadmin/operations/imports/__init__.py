"""File imports: the format registry (`formats.py`), streaming readers (CSV / TSV / JSON / NDJSON
in `readers.py`, XLSX in `xlsx.py`) and the import operation.

`import_file(model=..., source=...)` streams a file into a collection through the bulk service,
recorded as a `Job`; `resume_import(job_id)` carries on an interrupted one. `manage.py import_csv`
is its command line.
"""

from bulkadmin.operations.imports.errors import ImportRowError
from bulkadmin.operations.imports.operation import (
    ImportProgress,
    ImportResult,
    check_import_options,
    import_file,
    resume_import,
    run_queued_import,
)
from bulkadmin.operations.imports.sources import ImportFileError

__all__ = [
    "ImportFileError",
    "ImportProgress",
    "ImportResult",
    "ImportRowError",
    "check_import_options",
    "import_file",
    "resume_import",
    "run_queued_import",
]
