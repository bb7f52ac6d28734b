"""The import row hooks of a collection's admin (`CollectionAdmin.before_import_row` and
`clean_row`), applied to each shaped row; a hook's `ValueError` rejects that row with its message.
A collection that overrides neither pays nothing."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bulkadmin.core.collection_admin import CollectionAdmin
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.registry import admin_of
from bulkadmin.operations.imports.shaping import RowProblem


class RowHooks:
    """The hooks of `model`'s admin; falsy when it overrides neither."""

    def __init__(self, model: type[MongoModel], *, whole_documents: bool) -> None:
        self.model, self.admin = model, admin_of(model)
        hooks = type(self.admin)
        self.before = hooks.before_import_row is not CollectionAdmin.before_import_row
        # `clean_row` sees a validated document: whole rows only (a merge's row holds some fields)
        self.clean = whole_documents and hooks.clean_row is not CollectionAdmin.clean_row

    def __bool__(self) -> bool:
        return self.before or self.clean

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row after the hooks; `RowProblem` when a hook rejects it. A row the model
        rejects is left to the writer, which reports each field."""
        try:
            if self.before:
                row = self.admin.before_import_row(row)
            if self.clean:
                try:
                    document = self.model.model_validate(row)
                except ValidationError:
                    return row
                cleaned = self.admin.clean_row(document).model_dump(by_alias=True)
                if "_id" not in row and "id" not in row:
                    cleaned.pop("_id", None)  # the import gives each row its own id (see `RunIdentity`)
                row = cleaned
        except ValueError as error:
            raise RowProblem(None, str(error) or "rejected by the collection's import hook") from None
        return row
