"""File imports: the format registry (`formats.py`), streaming readers (CSV / TSV / JSON / NDJSON
in `readers.py`, XLSX in `xlsx.py`) and the import operation.

`run_import(model=..., options=check_import_options(...))` streams a file into a collection
through the bulk service and returns an `OperationResult`; it knows nothing of jobs. The jobs
layer's `import_file` / `resume_import` record an import as a job and resume it;
`manage.py import_csv` is their command line.
"""

from bulkadmin.operations.imports.options import MODES, ImportOptions, check_import_options
from bulkadmin.operations.imports.pipeline import run_import
from bulkadmin.operations.imports.sources import ImportFileError
from bulkadmin.operations.imports.state import ImportProgress, ImportState, RunIdentity

__all__ = [
    "MODES",
    "ImportFileError",
    "ImportOptions",
    "ImportProgress",
    "ImportState",
    "RunIdentity",
    "check_import_options",
    "run_import",
]
