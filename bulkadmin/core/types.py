"""Types shared by the layers: a MongoDB document as bulkadmin reads and writes it.

Handles are typed with it: `Database[Document]`, `Collection[Document]`, `MongoClient[Document]`."""

from __future__ import annotations

from typing import Any, TypeAlias

Document: TypeAlias = dict[str, Any]
