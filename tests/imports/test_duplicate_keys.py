"""A JSON object giving a key twice rejects its row, naming the key's path at any depth, in
NDJSON and in a JSON array (fast and pure-Python parsers); json.loads would keep the last value."""

from __future__ import annotations

import io
import json

import ijson
import pytest

from bulkadmin.core.exceptions import InvalidSpec
from bulkadmin.core.storable import MarkedObject, loads_json, plain_unique
from bulkadmin.jobs.imports import import_file
from bulkadmin.operations.imports.readers import JsonReader, NdjsonReader
from bulkadmin.operations.imports.sources import open_source
from project.collections import User

ROWS = [
    ('{"name": "A", "name": "B", "email": "a@example.com"}', "name"),
    ('{"name": "A", "email": "a@example.com", "profile": {"bio": "x", "bio": "y"}}', "profile.bio"),
    ('{"name": "A", "email": "a@example.com", "tags": ["t", {"k": 1, "k": 2}]}', "tags.1.k"),
]
GOOD = '{"name": "Z", "email": "z@example.com", "profile": {"bio": "a"}, "tags": ["x", "y"]}'


@pytest.mark.parametrize(("line", "path"), ROWS)
def test_loads_json_with_unique_keys_names_the_key_given_twice(line, path):
    with pytest.raises(InvalidSpec) as raised:
        loads_json(line, unique_keys=True)
    assert (raised.value.field, str(raised.value)) == (path, f"{path}: the key appears twice in this object.")
    assert loads_json(line) == json.loads(line)  # without the option, as json.loads reads it


@pytest.mark.parametrize(("line", "path"), ROWS)
def test_an_ndjson_row_with_a_key_given_twice_is_rejected_naming_it(line, path):
    records = list(NdjsonReader(open_source(io.BytesIO(f"{GOOD}\n{line}\n".encode())), "utf-8"))
    assert [(record.problem is None, record.field) for record in records] == [(True, None), (False, path)]
    assert records[1].problem == f"{path}: the key appears twice in this object."
    assert records[0].raw == json.loads(GOOD)


@pytest.mark.parametrize("backend", ["yajl2_c", "python"])
@pytest.mark.parametrize(("line", "path"), ROWS)
def test_a_json_array_item_with_a_key_given_twice_is_rejected_naming_it(line, path, backend):
    items = list(ijson.get_backend(backend).items(io.BytesIO(f"[{line}]".encode()), "item", map_type=MarkedObject))
    with pytest.raises(InvalidSpec) as raised:
        plain_unique(items[0])
    assert raised.value.field == path
    records = list(JsonReader(open_source(io.BytesIO(f"[{GOOD}, {line}, {GOOD}]".encode())), "utf-8"))
    assert [record.field for record in records] == [None, path, None]
    assert [type(record.raw) for record in (records[0], records[2])] == [dict, dict]
    assert records[0].raw == json.loads(GOOD)
    assert type(records[0].raw["profile"]) is dict


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_an_import_rejects_the_row_alone_in_a_dry_run_as_in_the_real_run(db, tmp_path, settings, fmt, dry_run):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    lines = [line for line, _ in ROWS]
    text = "\n".join([*lines, GOOD]) if fmt == "ndjson" else "[" + ",".join([*lines, GOOD]) + "]"
    path = tmp_path / f"rows.{fmt}"
    path.write_text(text, encoding="utf-8")
    result = import_file(model=User, source=path, format=fmt, dry_run=dry_run)
    assert (result.counts["inserted"], result.counts["rejected"]) == (1, 3)
    assert [(error.row, error.field) for error in result.errors] == [(1, "name"), (2, "profile.bio"), (3, "tags.1.k")]
    assert db.users.count_documents({}) == (0 if dry_run else 1)
