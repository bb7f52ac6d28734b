"""Web pages as a first user reads them: no server paths or command-line flags, the same words
for a dry run and a real run, and warnings before what cannot be taken back."""

from __future__ import annotations

import re

import pytest

from tests.web.import_helpers import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def text_of(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_file_of_unknown_format_is_named_without_its_server_path_or_a_flag(admin_client_, jobs_dir):
    response = upload(admin_client_, "name;email\nAnn;ann@example.com\n", name="semi.txt")
    if response.status_code == 302:
        response = admin_client_.get(response["Location"])
    text = text_of(response)
    assert "Cannot tell the format of &#x27;semi.txt&#x27; from its extension or its content" in text
    assert "choose one of csv, tsv, json, ndjson, xlsx" in text
    assert str(jobs_dir) not in text and "--format" not in text


def test_a_missed_lookup_keeps_the_browse_filters_labelled_as_words(admin_client_, people):
    response = admin_client_.get("/admin/bulk/collections/users/", {"go": "nobody@example.com"})
    assert response.status_code == 404
    text = text_of(response)
    assert "No document of users has the id or email &#x27;nobody@example.com&#x27;." in text
    assert [label for _, label, _, _ in response.context["filters"]] == ["Status", "Tier", "Is active", "Is verified"]
    assert "Is active" in text and '<select name="is_active">' in response.content.decode()


def test_the_first_click_on_a_column_sorts_it_ascending_and_the_page_says_which_columns_sort(admin_client_, people):
    response = admin_client_.get("/admin/bulk/collections/users/")
    headers = {header["name"]: header for header in response.context["headers"]}
    assert headers["email"]["param"] == "email"
    assert (headers["age"]["sortable"], headers["age"]["param"]) == (False, "age")
    html = response.content.decode()
    assert '<span title="Not sortable: age has no index">age</span>' in html
    assert "only indexed fields sort (" in text_of(response)
    again = admin_client_.get("/admin/bulk/collections/users/", {"sort": "email"})
    assert {h["name"]: h for h in again.context["headers"]}["email"]["param"] == "-email"
