"""Exports: the documents of a collection written to a file in any export format (CSV, TSV,
JSON, NDJSON, XLSX), in the vocabulary of imports, so that the file imports back unchanged
(`import_csv --mode merge --key ...`).

- `plan`: the filter, fields, sort and limit checked against the model;
- `values`: stored values as cells and JSON values the importer reads back exactly;
- `formats`: the format registry and one writer per format;
- `run`: `export_documents`, the operation.
"""

from bulkadmin.operations.exports.formats import ExportFormat, formats
from bulkadmin.operations.exports.plan import ExportError, ExportPlan, plan_export
from bulkadmin.operations.exports.run import export_documents

__all__ = ["ExportError", "ExportFormat", "ExportPlan", "export_documents", "formats", "plan_export"]
