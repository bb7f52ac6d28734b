"""The collection browser's search: each text field searched the way its index allows.

- A field that leads an index (`web.fields.indexed_fields`: its key fields' and its declared
  indexes') is searched by prefix, as the index range `{key: {"$gte": text, "$lt": after}}`
  (`after`: the text with its last character moved one on). MongoDB and the embedded server both
  read that range from the index; an anchored `^text` regex is a full scan on the embedded server.
  The prefix is case-sensitive, except on fields whose type stores them lower-cased
  (`StringConstraints(to_lower=True)`, like `Email`): for those the text is lower-cased first.
  Newest first (the default order), a range read from the index is every match, sorted: a cost
  that grows with the matches. So the page is first looked for among the newest
  `NEWEST_DOCUMENTS` documents along `_id`, with the anchored regex; when they fill it, they are
  its documents and the range is not read.
- Any other text field is searched for the text anywhere, in any case, among the newest
  `NEWEST_DOCUMENTS` documents only: a bounded scan, which the page says.

Conditions are written with stored keys: field names come from the model and the text is only
ever a literal (a compared string, or an escaped regex).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection

from bulkadmin.core.documents import MongoModel, stored_key
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.streams import with_id_condition
from bulkadmin.jobs.browsing import read_timeout
from bulkadmin.operations.browse import Part, ReadTimeout, time_limited
from bulkadmin.web.fields import indexed_fields, lower_case_fields, search_fields

NEWEST_DOCUMENTS = 10_000
MAX_SEARCH_LENGTH = 200
_SURROGATES = range(0xD800, 0xE000)  # not characters: UTF-8 (and so both servers) cannot hold them


@dataclass(frozen=True)
class FieldSearch:
    """How one text field is searched: for `text` as a prefix from its index, or anywhere by a scan;
    `lower_cased` when the field is stored lower-cased (and `text` was lower-cased for it)."""

    field: str
    key: str
    text: str
    indexed: bool
    lower_cased: bool = False

    @property
    def condition(self) -> dict[str, Any]:
        """The condition on the field's stored key."""
        if self.indexed:
            return prefix_range(self.text)
        return {"$regex": "(?i)" + re.escape(self.text)}

    @property
    def newest_condition(self) -> dict[str, Any]:
        """The same match as `condition` for an indexed field, in a form the server checks while
        reading along `_id` (used within the newest documents; see `operations.browse.Part.newest`)."""
        return {"$regex": "^" + re.escape(self.text)} if self.indexed else self.condition

    @property
    def description(self) -> str:
        """What an indexed field is searched for, as the page says it."""
        return f"{self.field} starts with “{self.text}”" + (" (stored in lower case)" if self.lower_cased else "")


@dataclass(frozen=True)
class Window:
    """The newest `NEWEST_DOCUMENTS` documents, as an `_id` condition; None when the collection
    holds no more (`bounded` is False when it holds more but their `_id`s are not ObjectIds: then
    a field without an index is scanned whole, under the read time limit)."""

    condition: dict[str, Any] | None
    bounded: bool = True


@dataclass(frozen=True)
class Search:
    """A typed text and how each text field of the model is searched for it."""

    text: str
    fields: tuple[FieldSearch, ...]

    def parts(self, base: dict[str, Any], window: Window | None = None) -> list[Part]:
        """One filter per field (stored keys): `base` and the field's condition; a scanned field's
        within `window`, an indexed field's first looked for there (newest first, see `operations.browse.Part`)."""
        newest = window.condition if window is not None else None
        parts = []
        for field in self.fields:
            filter = {**base, field.key: field.condition}
            if newest is None:
                parts.append(Part(filter))
            elif field.indexed:
                among_newest = with_id_condition({**base, field.key: field.newest_condition}, newest)
                parts.append(Part(filter, newest=among_newest))
            else:
                parts.append(Part(with_id_condition(filter, newest), windowed=True))
        return parts

    def notes(self, window: Window | None = None) -> list[str]:
        """What the page says about how the text was looked for, one sentence per way."""
        notes = []
        indexed = [part for part in self.fields if part.indexed]
        if indexed:
            cased = " (case-sensitive)" if any(not part.lower_cased for part in indexed) else ""
            notes.append(f"From indexes{cased}: " + "; ".join(part.description for part in indexed) + ".")
        scanned = [part for part in self.fields if not part.indexed]
        if scanned:
            names, one = _names([part.field for part in scanned]), len(scanned) == 1
            said = f"“{self.text}” anywhere in {'it' if one else 'them'}, in any case"
            notes.append(f"{names} {'is' if one else 'are'} not indexed: searched for {said}, {_scope(window)}.")
        return notes


def plan_search(model: type[MongoModel], text: str) -> Search:
    """How `text` is looked for in each text field of `model`."""
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidSpec(f"Search for at most {MAX_SEARCH_LENGTH} characters (got {len(text)}).")
    indexed, lowered = set(indexed_fields(model)), set(lower_case_fields(model))
    fields = []
    for field in search_fields(model):
        lower = field in lowered
        typed = text.lower() if lower else text
        fields.append(FieldSearch(field, stored_key(model, field), typed, field in indexed, lower))
    return Search(text, tuple(fields))


def prefix_range(prefix: str) -> dict[str, str]:
    """The strings starting with `prefix`, as an index range: at or after it, and before the first
    string past all of them (`ada` -> `adb`). Both servers order strings by code point (UTF-8 bytes)."""
    head = prefix
    while head:
        following = ord(head[-1]) + 1
        if following in _SURROGATES:
            following = _SURROGATES.stop
        if following <= sys.maxunicode:
            return {"$gte": prefix, "$lt": head[:-1] + chr(following)}
        head = head[:-1]
    return {"$gte": prefix}


def newest_window(collection: Collection) -> Window:
    """The `_id` condition of the newest `NEWEST_DOCUMENTS` documents (one skip along the `_id`
    index); none (a scan under the time limit) when that skip does not finish within it."""
    try:
        with time_limited(read_timeout()):
            found = list(collection.find({}, {"_id": 1}).sort("_id", -1).skip(NEWEST_DOCUMENTS - 1).limit(1))
    except ReadTimeout:
        return Window(None, bounded=False)
    if not found:
        return Window(None)
    oldest = found[0]["_id"]
    if not isinstance(oldest, ObjectId):  # other types may sort apart: no window is exact for them
        return Window(None, bounded=False)
    return Window({"$gte": oldest})


def _scope(window: Window | None) -> str:
    if window is not None and window.condition is not None:
        return f"in the newest {NEWEST_DOCUMENTS:,} documents only"
    if window is not None and not window.bounded:
        return "by a scan of the whole collection, which stops at the time limit"
    return f"in every document (there are at most {NEWEST_DOCUMENTS:,})"


def _names(fields: list[str]) -> str:
    return fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
