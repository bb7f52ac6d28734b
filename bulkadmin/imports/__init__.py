"""File imports: streaming CSV / TSV / JSON / NDJSON readers and the import operation.

`import_file(model=..., source=...)` streams a file into a collection through the bulk service,
recorded as a `Job`; `resume_import(job_id)` carries on an interrupted one. `manage.py import_csv`
is its command line.
"""

from bulkadmin.imports.errors import ImportRowError
from bulkadmin.imports.operation import ImportProgress, ImportResult, import_file, resume_import
from bulkadmin.imports.sources import ImportFileError

__all__ = ["ImportFileError", "ImportProgress", "ImportResult", "ImportRowError", "import_file", "resume_import"]
