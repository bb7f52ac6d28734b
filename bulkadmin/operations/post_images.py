"""Validity that depends on the stored value: apply an update to each pre-image in Python and
validate the result with the model before writing, so `$inc age 1000` never stores `age` 1075
where the model caps it at 150.

Runs that read pre-images anyway (the composed update job, cleanup update rules) use it; its
cost is one read of each batch's documents (when not kept for undo already) and one model
validation per document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import decode_all, encode
from bson.codec_options import CodecOptions
from pydantic import ValidationError

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.operations.simulate import apply_update


@dataclass(frozen=True)
class InvalidResult:
    """A document the update would make invalid: its `_id`, the field (model name), why, and
    its position among the documents checked."""

    doc_id: Any
    field: str
    message: str
    index: int = 0
    refused: bool = False  # the update cannot be applied to its stored value at all

    def describe(self) -> str:
        outcome = "cannot be updated" if self.refused else "would become invalid"
        return f"_id {self.doc_id}: {self.field} {outcome}: {self.message}"


Result = dict[str, Any] | InvalidSpec  # a document as an update leaves it, or why it cannot apply


def results(
    documents: list[dict[str, Any]], update: Mapping[str, Any], *, now: dt.datetime, codec_options: CodecOptions
) -> list[Result]:
    """Each document as `update` (stored keys) leaves it, computed on copies (a BSON round
    trip, many times faster than `copy.deepcopy`; the documents themselves are not changed), or
    the `InvalidSpec` saying why it cannot apply to that document (`$inc` of a text value)."""
    copies = decode_all(b"".join(encode(document) for document in documents), codec_options=codec_options)
    return [_applied(copy, update, now) for copy in copies]


def _applied(document: dict[str, Any], update: Mapping[str, Any], now: dt.datetime) -> Result:
    try:
        return apply_update(document, update, now=now, in_place=True)
    except InvalidSpec as refused:
        return refused


def split_valid(
    model: type[MongoModel], documents: list[dict[str, Any]], after: list[Result], update: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[InvalidResult]]:
    """The documents `update` (stored keys) leaves valid, and those it would make invalid;
    `after` holds their results (see `results`), in the same order.

    Only problems in the fields the update touches count: a document that was already invalid
    elsewhere is not the update's doing."""
    touched = {path.split(".")[0] for fields in update.values() if isinstance(fields, Mapping) for path in fields}
    valid: list[dict[str, Any]] = []
    invalid: list[InvalidResult] = []
    for index, (document, result) in enumerate(zip(documents, after, strict=True)):
        if isinstance(result, InvalidSpec):
            field = _field_name(model, str(result.field or "").split(".")[0]) or "the update"
            invalid.append(InvalidResult(document.get("_id"), field, str(result), index=index, refused=True))
            continue
        problem = _problem(model, result, touched)
        if problem is None:
            valid.append(document)
        else:
            invalid.append(InvalidResult(document.get("_id"), *problem, index=index))
    return valid, invalid


def _problem(model: type[MongoModel], document: dict[str, Any], touched: set[str]) -> tuple[str, str] | None:
    try:
        model.model_validate(document)
    except ValidationError as error:
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else ""
            if key in touched:
                value = document.get(key)
                return _field_name(model, key), f"{item['msg']} (would be {value!r})"
    return None


def _field_name(model: type[MongoModel], key: str) -> str:
    """The model field name of stored key `key`."""
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return name
    return key
