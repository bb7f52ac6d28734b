"""The bulkadmin exception hierarchy: every error a user can cause names its row, field or option."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pymongo.errors

if TYPE_CHECKING:
    from bulkadmin.bulk.results import BulkResult


class BulkAdminError(Exception):
    """Base class of every error raised by bulkadmin.

    `option` names the operation's keyword argument the error is about (e.g. "key_fields"), for
    the command line to word it with its flag and the web with its form label."""

    option: str | None = None


class ImproperlyDeclared(BulkAdminError):
    """A collection model is declared wrongly (missing collection name, unknown key field)."""


class AlreadyRegistered(BulkAdminError):
    """A collection name is registered twice."""


class NotRegistered(BulkAdminError):
    """A collection name is not in the registry; `.valid_names` lists the registered ones."""

    def __init__(self, name: str, valid_names: list[str]) -> None:
        self.name = name
        self.valid_names = valid_names
        valid = ", ".join(valid_names) or "none"
        super().__init__(f"Unknown collection {name!r}. Registered collections: {valid}.")


class InvalidSpec(BulkAdminError):
    """A filter, update or operation is malformed, unsafe or names an unknown field."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        operator: str | None = None,
        index: int | None = None,
        option: str | None = None,
    ) -> None:
        self.field = field
        self.operator = operator
        self.index = index
        self.option = option
        super().__init__(message)

    def at(self, index: int) -> InvalidSpec:
        """Return a copy of this error located at input `index`."""
        prefix = f"Entry {index}: "
        message = str(self) if str(self).startswith(prefix) else prefix + str(self)
        return InvalidSpec(message, field=self.field, operator=self.operator, index=index, option=self.option)


class EmbeddedServerError(BulkAdminError):
    """The embedded MongoDB server could not be started or reached."""


class BulkWriteError(BulkAdminError, pymongo.errors.BulkWriteError):
    """Some rows failed validation or writing, or the server reported write-concern errors;
    `.details` indexes point into the whole input.

    `.details` has pymongo's shape (nInserted, nUpserted, nMatched, nModified, nRemoved,
    upserted, writeErrors, writeConcernErrors); `.result` is the partial `BulkResult`.
    """

    def __init__(self, result: BulkResult) -> None:
        self.result = result
        pymongo.errors.BulkWriteError.__init__(self, result.details())

    def __str__(self) -> str:
        errors: list[dict[str, Any]] = self.details["writeErrors"]
        concerns = self.result.write_concern_errors
        told = [f"write concern not met for {len(concerns)} write(s): {concerns[0]}"] if concerns else []
        if errors or not concerns:
            first = errors[0] if errors else {}
            told.insert(0, f"{len(errors)} row(s) failed; first at index {first.get('index')}: {first.get('errmsg')}")
        return "; ".join(told)
