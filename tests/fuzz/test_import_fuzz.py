"""Random files through the import readers and shaping (a dry run writes nothing) and through
the preview: no exception but the product's own, and every rejection names its row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.imports.options import check_import_options
from bulkadmin.operations.imports.pipeline import run_import
from bulkadmin.operations.imports.preview import preview_file
from project.collections import User

EXTENSIONS = ("csv", "tsv", "json", "ndjson", "xlsx")
HEADERS = ["name", "email", "age", "tags", "profile", "last_login", "external_id", "total_spent", "x.y", "$set", ""]
ALL_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        ALL_TEXT,
        st.sampled_from(["9999-12-31T23:59:59-14:00", "a@b.org", "[" * 300 + "]" * 300]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(HEADERS), ALL_TEXT), children, max_size=4),
    ),
    max_leaves=10,
)
deep_json = st.integers(min_value=90, max_value=3000).map(lambda n: '{"a":' * n + "1" + "}" * n)


def import_dry_run(path: Path, mode: str) -> None:
    """A dry run of `path`: the product's own errors only; every rejected row located."""
    keys = ["email"] if mode == "merge" else None
    try:
        options = check_import_options(User, source=path, mode=mode, key_fields=keys, dry_run=True, batch_size=7)
        result = run_import(model=User, options=options, error_file=path.with_suffix(".errors.csv"))
    except BulkAdminError:
        return
    assert result.counts["rows"] == sum(
        result.counts[name] for name in ("inserted", "updated", "unchanged", "rejected", "failed")
    )
    for error in result.errors:
        assert error.row >= 1 and str(error).startswith(("line ", "item ")), error
        assert error.message


def preview(path: Path, mode: str) -> None:
    try:
        shown = preview_file(model=User, path=path, mode=mode, key_fields=("email",) if mode == "merge" else ())
    except BulkAdminError:
        return
    for row in shown.rows:
        assert row.where.startswith(("line ", "item ")), row


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=st.binary(max_size=600), ext=st.sampled_from(EXTENSIONS), mode=st.sampled_from(["insert", "merge"]))
def test_random_bytes_in_every_format(tmp_path, content, ext, mode):
    path = write(tmp_path, f"random.{ext}", content)
    import_dry_run(path, mode)
    preview(path, mode)


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6),
    rows=st.lists(st.lists(st.one_of(ALL_TEXT, deep_json, json_values.map(json.dumps)), max_size=7), max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    mode=st.sampled_from(["insert", "merge"]),
)
def test_random_rows(tmp_path, header, rows, delimiter, mode):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = write(
        tmp_path, "rows.tsv" if delimiter == "\t" else "rows.csv", text.getvalue().encode("utf-8", "surrogatepass")
    )
    import_dry_run(path, mode)
    preview(path, mode)


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=st.lists(st.one_of(json_values, deep_json), max_size=8), mode=st.sampled_from(["insert", "merge"]))
def test_random_json(tmp_path, items, mode):
    texts = [item if isinstance(item, str) and item.startswith('{"a":') else json.dumps(item) for item in items]
    ndjson = write(tmp_path, "items.ndjson", "\n".join(texts).encode("utf-8", "surrogatepass"))
    array = write(tmp_path, "items.json", ("[" + ",".join(texts) + "]").encode("utf-8", "surrogatepass"))
    for path in (ndjson, array):
        import_dry_run(path, mode)
        preview(path, mode)


valid_users = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.text(
                alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
                min_size=1,
                max_size=20,
            ).filter(str.strip),
            "age": st.integers(0, 150),
            "total_spent": st.floats(0, 1e12, allow_nan=False),
        }
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(users=valid_users, ext=st.sampled_from(["csv", "tsv", "ndjson", "json"]))
def test_valid_rows_are_all_accepted_by_a_dry_run(tmp_path, users, ext):
    rows = [{**user, "email": f"user{number}@example.com"} for number, user in enumerate(users)]
    path = tmp_path / f"valid.{ext}"
    if ext in ("csv", "tsv"):
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]), delimiter="\t" if ext == "tsv" else ",")
            writer.writeheader()
            writer.writerows({**row, "total_spent": repr(row["total_spent"])} for row in rows)
    else:
        texts = [json.dumps(row) for row in rows]
        path.write_text("\n".join(texts) if ext == "ndjson" else "[" + ",".join(texts) + "]", encoding="utf-8")
    options = check_import_options(User, source=path, mode="insert", dry_run=True, batch_size=3)
    result = run_import(model=User, options=options, error_file=path.with_suffix(".errors.csv"))
    assert (result.counts["rows"], result.counts["inserted"], result.counts["rejected"]) == (len(rows), len(rows), 0)
