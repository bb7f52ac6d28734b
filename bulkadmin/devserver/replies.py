"""Replies encoded once, by the BSON encoder.

nx-27017 walked every value of every document it returned in Python to convert its ObjectIds and
Decimals, after a failed BSON encoding per document to measure it, and encoded each again. Here
the BSON encoder converts them (a fallback encoder) and each document is encoded once.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64, encode
from bson import ObjectId as BsonObjectId
from bson.codec_options import CodecOptions, TypeRegistry
from bson.raw_bson import RawBSONDocument
from neosqlite.objectid import ObjectId
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.wire_protocol import MAX_BSON_DOCUMENT_SIZE, ResponseBuilder, WireProtocol


def _as_bson(value: Any) -> Any:
    """The server's own ObjectId and Decimal as BSON types; called by the BSON encoder for
    values it cannot encode itself."""
    if isinstance(value, ObjectId):
        return BsonObjectId(value.binary)
    if isinstance(value, Decimal):
        return Decimal128(value)
    return value


_REPLY_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(type_registry=TypeRegistry(fallback_encoder=_as_bson))


def _int64_ids(reply: dict[str, Any]) -> dict[str, Any]:
    """A reply with its cursor's id sent as an int64, as MongoDB sends it. Only `cursor.id`: a
    document a reply returns outside a cursor (`findAndModify`'s `value`) may hold a field `id`
    (`False`, `0.0`), which is sent as stored."""
    cursor = reply.get("cursor")
    if not isinstance(cursor, dict) or type(cursor.get("id")) is not int:
        return reply
    return {**reply, "cursor": {**cursor, "id": Int64(cursor["id"])}}


def install() -> None:
    """Install the once-encoding reply builder."""

    def build_op_msg_reply(request_id: int, response_to: int, document: dict[str, Any], flags: int = 0) -> bytes:
        body = struct.pack("<IB", flags, 0) + encode(_int64_ids(document), codec_options=_REPLY_CODEC)
        return struct.pack("<iiii", 16 + len(body), request_id, response_to, WireProtocol.OP_MSG) + body

    def fit_bson_budget(docs: list[dict[str, Any]], limit: int = MAX_BSON_DOCUMENT_SIZE) -> Any:
        """The documents of a reply that fit its size limit (at least one), encoded once (the
        reply copies their bytes), and the rest."""
        head: list[RawBSONDocument] = []
        used = 0
        for doc in docs:
            encoded = RawBSONDocument(encode(doc, codec_options=_REPLY_CODEC))
            if head and used + len(encoded.raw) > limit:
                break
            head.append(encoded)
            used += len(encoded.raw)
        return head, docs[len(head) :]

    ResponseBuilder.build_op_msg_reply = staticmethod(build_op_msg_reply)
    NeoSQLiteHandler._fit_bson_budget = staticmethod(fit_bson_budget)
