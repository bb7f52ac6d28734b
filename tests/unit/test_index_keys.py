"""The embedded server's unique-index key of a text value is the same whether it is written from
the stored JSON (plain ASCII text, the fast way) or from the value read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bulkadmin.devserver import index_keys, values


@pytest.mark.parametrize("text", ["user1@example.com", "", 'a"b', "a\\b", "tab\there", "é", "\x7f", "😀", "</x>"])
def test_a_text_key_is_the_key_its_value_gives_whichever_way_it_is_written(text):
    stored = values.dumps({"f": text})
    connection = sqlite3.connect(":memory:")
    index_keys.prepare(connection)
    [(key,)] = connection.execute("SELECT index_key(? -> '$.f')", (stored,)).fetchall()
    assert key == json.dumps(["string", text], separators=(",", ":"))
