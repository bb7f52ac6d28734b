"""What a browse page shows, carried to the pages that act on it (Bulk update, Bulk delete,
Export…), as Django admin's actions carry a change list's selection: the page's filter choices
(`?status=active`), its search (`q`) and the documents ticked on it (`ids`; `all=1`, "select all
N matching", carries every matching document instead).

They become one filter written with model field names, so that it passes `core.safety` (the
allow-listed operators, known fields, typed values, regex limits) wherever it is used: the
choices and the ticked ids as the composer's rows (`status eq active`, `id in …`), the search
as an `$or` of one condition per text field, as the browse page reads it (`web.search`): an
indexed field by prefix (an anchored regex, the same match as its index range, which a typed
field such as an email would refuse), another field anywhere in any case, among the newest
documents only when the page searched only those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.core.mongo import get_db
from bulkadmin.web.fields import filter_fields, search_fields
from bulkadmin.web.forms import filter_from
from bulkadmin.web.ids import id_text
from bulkadmin.web.search import newest_window, plan_search

# Ticked documents carried as `id in [...]` (a page shows 50); more is "select all N matching".
# Below Django's 1,000 fields a request (DATA_UPLOAD_MAX_NUMBER_FIELDS), so a longer list gets
# this message rather than a bare "Bad Request".
MAX_IDS = 500
MAX_ID_LENGTH = 200  # longer than any id a document is given (an ObjectId is 24 characters)
TOO_MANY_IDS = (
    "at most {limit:,} can be carried one by one. "
    "Choose “select all matching” on the browse page instead, or narrow its filter."
)


class SelectionError(BulkAdminError):
    """What a browse page carried cannot be acted on (too many ticked documents, an unusable id)."""


@dataclass(frozen=True)
class Selection:
    """A browse page's filter choices (field, value), search text and ticked document ids
    (empty: every document matching the choices and the search)."""

    chosen: tuple[tuple[str, str], ...] = ()
    query: str = ""
    ids: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, model: type[MongoModel], params: Mapping[str, Any]) -> Selection:
        """The selection in a query string or form (`status=active&q=Ada&ids=…`, `all=1`)."""
        chosen = tuple((field, str(params[field])) for field in filter_fields(model) if params.get(field))
        ids: tuple[str, ...] = ()
        if not params.get("all"):
            listed = params.getlist("ids") if hasattr(params, "getlist") else params.get("ids", [])
            ids = tuple(dict.fromkeys(text.strip() for text in listed if text.strip()))
        _check_ids(ids)
        return cls(chosen, str(params.get("q", "")).strip(), ids)

    @property
    def empty(self) -> bool:
        return not (self.chosen or self.query or self.ids)

    def params(self) -> list[tuple[str, str]]:
        """The selection as query-string pairs (hidden inputs of the pages that carry it on)."""
        pairs = [*self.chosen, *([("q", self.query)] if self.query else [])]
        return pairs + [("ids", doc_id) for doc_id in self.ids]

    def query_string(self) -> str:
        return urlencode(self.params())

    def rows(self, model: type[MongoModel]) -> list[dict[str, str]]:
        """The composer's filter rows: `status eq active` per choice, `id in a, b` for the ticked ids."""
        choices = filter_fields(model)
        rows = [{"field": f, "operator": "eq", "value": _choice_text(choices[f], v)} for f, v in self.chosen]
        if self.ids:
            rows.append({"field": "id", "operator": "in", "value": ", ".join(self.ids)})
        return rows

    def filter(self, model: type[MongoModel]) -> dict[str, Any]:
        """The whole selection as one filter with model field names (not yet checked)."""
        return all_of(filter_from(self.rows(model), ""), search_filter(model, self.query))

    def description(self, model: type[MongoModel]) -> list[str]:
        """What is carried, one phrase each, for the pages that show it."""
        said = [f"{field} is {value}" for field, value in self.chosen]
        if self.query and search_fields(model):
            said.append(f"search for “{self.query}” in {', '.join(search_fields(model))}")
        if self.ids:
            said.append(f"the {len(self.ids)} ticked document{'s' if len(self.ids) != 1 else ''}")
        return said or ["every document"]


def too_many_ids(ticked: int | None = None) -> str:
    """The refusal of more ticked documents than can be carried (`ticked`: how many, when known)."""
    said = f"{ticked:,} documents were ticked" if ticked is not None else "Too many documents were ticked"
    return f"{said}; {TOO_MANY_IDS.format(limit=MAX_IDS)}"


def _check_ids(ids: tuple[str, ...]) -> None:
    """Refuse (`SelectionError`) ticked ids that no list of ids can carry: too many, or not ids at all."""
    if len(ids) > MAX_IDS:
        raise SelectionError(too_many_ids(len(ids)))
    if any("," in text for text in ids):
        raise SelectionError("A ticked document's id holds a comma, which a list of ids cannot carry.")
    longest = max((len(text) for text in ids), default=0)
    if longest > MAX_ID_LENGTH:
        raise SelectionError(
            f"A ticked document's id is {longest:,} characters long; ids are at most {MAX_ID_LENGTH} characters."
        )


def search_filter(model: type[MongoModel], text: str) -> dict[str, Any]:
    """The browse page's search for `text` as a filter with model field names: any of the text
    fields, each matched as the page matches it ({} when there is nothing to search)."""
    text = text.strip()
    if not text or not search_fields(model):
        return {}
    search = plan_search(model, text)
    newest = newest_window(get_db()[model.collection]).condition
    clauses = []
    for field in search.fields:
        if field.indexed:
            clauses.append({field.field: field.newest_condition})  # the prefix, as its index range matches it
            continue
        clause = {field.field: field.condition}
        if newest is not None:  # the page searched only the newest documents for it
            clause["id"] = {operator: id_text(value) for operator, value in newest.items()}
        clauses.append(clause)
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def all_of(*filters: dict[str, Any]) -> dict[str, Any]:
    """The documents matching every one of `filters` (empty ones match everything)."""
    kept = [spec for spec in filters if spec]
    if len(kept) > 1:
        return {"$and": kept}
    return kept[0] if kept else {}


def _choice_text(values: list[Any], chosen: str) -> str:
    """A chosen value as the composer offers it (`true` for the boolean `True`)."""
    for value in values:
        if str(value) == chosen:
            return str(value).lower() if isinstance(value, bool) else str(value)
    return chosen
