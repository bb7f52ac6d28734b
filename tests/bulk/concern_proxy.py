"""A TCP relay in front of the test server that answers writes as a replica set whose majority is
out of reach: every insert, update and delete command asking for `w: "majority"` is run by the
server as sent, and its reply gets the `writeConcernError` MongoDB adds when `wtimeout` expires.

The embedded server has no replicas, so it accepts any write concern and never sends one; this
relay lets the bulk service meet the real reply over a real connection. Other commands and the
handshake pass through untouched.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import bson
from pymongo.uri_parser import parse_uri

OP_MSG = 2013
MAJORITY = "&w=majority&wtimeoutMS=100"  # URI options of the writes the relay answers
WRITE_COMMANDS = {"insert", "update", "delete"}


def majority_timeout(write_concern: dict[str, Any]) -> dict[str, Any]:
    """The `writeConcernError` a MongoDB replica set sends when a majority write times out."""
    return {
        "code": 64,
        "codeName": "WriteConcernFailed",
        "errmsg": "waiting for replication timed out",
        "errInfo": {"wtimeout": True, "writeConcern": {**write_concern, "provenance": "clientSupplied"}},
    }


class ConcernProxy:
    """Relays one server; `.uri` connects through it. `.writes` counts the replies it changed."""

    def __init__(self, upstream_uri: str) -> None:
        self.upstream = parse_uri(upstream_uri)["nodelist"][0]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.writes = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def uri(self, options: str = "") -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true{options}"

    def close(self) -> None:
        self._closed = True
        for sock in [self.listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            concerned: dict[int, dict[str, Any]] = {}  # request id -> the write concern it asked for
            threading.Thread(target=self._requests, args=(client, server, concerned), daemon=True).start()
            threading.Thread(target=self._replies, args=(server, client, concerned), daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket, concerned: dict[int, dict[str, Any]]) -> None:
        for message in _messages(client):
            request_id, _, op_code = struct.unpack_from("<iii", message, 4)
            command = _command(message) if op_code == OP_MSG else {}
            write_concern = command.get("writeConcern") or {}
            if next(iter(command), None) in WRITE_COMMANDS and write_concern.get("w") == "majority":
                concerned[request_id] = write_concern
            server.sendall(message)
        _shut(server)

    def _replies(self, server: socket.socket, client: socket.socket, concerned: dict[int, dict[str, Any]]) -> None:
        for message in _messages(server):
            response_to, op_code = struct.unpack_from("<ii", message, 8)
            write_concern = concerned.pop(response_to, None)
            if write_concern is not None and op_code == OP_MSG and _command(message).get("ok") == 1:
                message = _with_concern_error(message, majority_timeout(write_concern))
                with self._lock:
                    self.writes += 1
            client.sendall(message)
        _shut(client)


def _messages(sock: socket.socket) -> Iterator[bytes]:
    """Whole wire-protocol messages read from `sock` until it closes."""
    with contextlib.suppress(OSError):
        while True:
            header = _read(sock, 4)
            if not header:
                return
            length = struct.unpack("<i", header)[0]
            body = _read(sock, length - 4)
            if body is None:
                return
            yield header + body


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _body(message: bytes) -> tuple[int, int]:
    """Where the body (kind 0 section) of an OP_MSG starts, and its size."""
    position = 20  # header (16) + flag bits (4)
    while position < len(message):
        size = struct.unpack_from("<i", message, position + 1)[0]
        if message[position] == 0:
            return position + 1, size
        position += 1 + size
    raise ValueError("an OP_MSG without a body")


def _command(message: bytes) -> dict[str, Any]:
    """The body of an OP_MSG: the command or the reply."""
    start, size = _body(message)
    return bson.decode(message[start : start + size])


def _with_concern_error(reply: bytes, error: dict[str, Any]) -> bytes:
    """The reply with a `writeConcernError` appended to its body, every other byte as the server sent it."""
    start, size = _body(reply)
    element = b"\x03writeConcernError\x00" + bson.encode(error)
    body = struct.pack("<i", size + len(element)) + reply[start + 4 : start + size - 1] + element + b"\x00"
    message = reply[4:start] + body + reply[start + size :]
    return struct.pack("<i", 4 + len(message)) + message


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
