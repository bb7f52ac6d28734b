"""The composer and the Import form through Django's test client with random input: every
answer is a page (a form message at worst), never an exception or a 500."""

from __future__ import annotations

import json

import pytest
from bson import json_util
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from project.collections import User
from tests.fuzz.strategies import filters, updates
from tests.web.helpers import compose_data
from tests.web.import_helpers import preview_data, upload

# What a form can carry: any text a browser can send (UTF-8; no lone surrogates).
form_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=60)
ALLOWED = (200, 302, 400)


def as_json(value) -> str:
    try:
        return json_util.dumps(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return json.dumps(str(value))


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.mark.django_db
@FUZZ
@given(
    kind=st.sampled_from(["update", "delete"]),
    filter_=st.one_of(filters(User).map(as_json), form_text),
    update=st.one_of(updates(User).map(as_json), form_text),
    rows=st.lists(st.tuples(st.sampled_from(["name", "age", "tags", "x.$[]", ""]), form_text, form_text), max_size=2),
)
def test_the_composer_answers_any_input_with_a_page(admin_client, kind, filter_, update, rows):
    data = compose_data(filter_json=filter_, update_json=update if kind == "update" else "")
    for number, (field, operator, value) in enumerate(rows):
        data.update(
            {f"filter-{number}-field": field, f"filter-{number}-operator": operator, f"filter-{number}-value": value}
        )
    response = admin_client.post(f"/admin/bulk/{kind}/?collection=users", data)
    assert response.status_code in ALLOWED, response.content[:2000]


@pytest.mark.django_db
@FUZZ
@given(
    content=st.binary(max_size=400),
    ext=st.sampled_from(["csv", "tsv", "json", "ndjson", "xlsx", "txt"]),
    encoding=st.one_of(st.sampled_from(["", "utf-8", "zlib_codec", "rot13", "utf-16", "undefined"]), form_text),
    mode=st.sampled_from(["insert", "merge", "upsert", "delete", "bogus"]),
)
def test_the_import_form_answers_any_file_and_options_with_a_page(admin_client, content, ext, encoding, mode):
    response = upload(admin_client, content, name=f"f.{ext}", mode=mode)
    assert response.status_code in ALLOWED, response.content[:2000]
    if response.status_code != 302:
        return
    shown = admin_client.get(response["Location"])
    assert shown.status_code in ALLOWED
    if "form" in (shown.context or {}):
        again = admin_client.post(response["Location"], preview_data(shown, encoding=encoding))
        assert again.status_code in ALLOWED, again.content[:2000]
