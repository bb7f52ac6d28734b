"""A row nested past MongoDB's 100 levels is rejected naming the path down to the limit, read
from the text's tokens before any parse (NDJSON) or from the parsed item (JSON array)."""

from __future__ import annotations

import io

import pytest

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.storable import loads_json
from bulkadmin.operations.imports.readers import JsonReader, NdjsonReader
from bulkadmin.operations.imports.sources import open_source

DEEP = '{"name": "A", "odd \\" key": [0, {"c": ' + '{"d": ' * 150 + "1" + "}" * 150 + "}]}"
PATH = 'odd " key.1.c' + ".d" * 97  # 100 parts: the object at level 101 is the first too deep


def test_loads_json_names_the_path_of_the_first_container_past_the_limit():
    with pytest.raises(InvalidSpec) as raised:
        loads_json(DEEP)
    assert raised.value.field == PATH
    assert str(raised.value) == f"{PATH}: nested deeper than 100 levels (the limit)."
    assert loads_json('{"a": [[1]]}') == {"a": [[1]]}


@pytest.mark.parametrize("reader", [NdjsonReader, JsonReader])
def test_a_deep_row_is_rejected_naming_its_path(reader):
    text = DEEP if reader is NdjsonReader else f"[{DEEP}]"
    [record] = list(reader(open_source(io.BytesIO(text.encode())), "utf-8"))
    if reader is JsonReader:  # read whole: validation names the path (check_depth)
        assert record.problem is None
        return
    assert (record.field, record.problem) == (PATH, f"{PATH}: nested deeper than 100 levels (the limit).")
