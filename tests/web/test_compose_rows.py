"""The composer as people expect it: any number of rows, choices and dates offered per field, the
final filter / update JSON, and previews naming documents by their label."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bulkadmin.models import Job
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db
UPDATE_URL, DELETE_URL = "/admin/bulk/update/", "/admin/bulk/delete/"
FIVE = [
    ("age", "gte", "22"),
    ("age", "lt", "40"),
    ("email", "contains", "user"),
    ("status", "eq", "active"),
    ("is_verified", "eq", "false"),
]


def test_five_filter_rows_are_combined_and_shown_as_the_final_json(admin_client_, people):
    response = admin_client_.post(UPDATE_URL, compose_data(filters=FIVE, updates=[("$set", "tier", "gold")]))
    assert response.status_code == 200
    assert response.context["state"].preview.count == 18
    final = json.loads(response.context["final_json"])
    assert final["filter"]["$and"][3] == {"status": "active"} and final["update"] == {"$set": {"tier": "gold"}}
    stored = json.loads(response.context["stored_json"])
    assert stored["filter"]["$and"][4] == {"is_verified": False}
    page = response.content.decode()
    assert 'id="final-spec"' in page and "&quot;$and&quot;" in page


def test_rows_beyond_the_first_three_and_gaps_left_by_removed_rows_are_read(admin_client_, people):
    data = compose_data(filters=[("age", "gte", "20")] * 25, updates=[("$inc", "age", "1")])
    for name in ("field", "operator", "value"):
        data.pop(f"filter-1-{name}")  # a row removed on the page leaves a gap
    preview = admin_client_.post(UPDATE_URL, data)
    assert preview.status_code == 200 and preview.context["state"].preview.count == 30
    assert len(json.loads(preview.context["final_json"])["filter"]["$and"]) == 24


def test_page_offers_choices_and_dates_per_field_and_empty_rows_to_add(admin_client_, people):
    response = admin_client_.get(UPDATE_URL, {"collection": "users"})
    kinds = response.context["value_kinds"]
    assert kinds["tier"] == {"kind": "choice", "choices": ["platinum", "gold", "silver", "bronze"]}
    assert kinds["is_verified"]["choices"] == ["true", "false"]
    assert kinds["last_login"] == {"kind": "datetime"} and "age" not in kinds
    page = response.content.decode()
    assert '<script id="value-kinds" type="application/json">' in page
    assert 'id="filter-empty"' in page and 'name="filter-__prefix__-field"' in page
    assert 'id="add-filter-row"' in page and 'id="add-update-row"' in page


def test_a_date_from_the_date_input_filters_by_date(admin_client_, people):
    people.update_many({"age": {"$lt": 25}}, {"$set": {"last_login": dt.datetime(2026, 1, 10, tzinfo=dt.UTC)}})
    filters = [("last_login", "gte", "2026-01-01T00:00")]
    response = admin_client_.post(DELETE_URL, compose_data(filters=filters))
    assert response.context["state"].preview.count == 5
    stored = json.loads(response.context["stored_json"])
    assert stored["filter"] == {"last_login": {"$gte": {"$date": "2026-01-01T00:00:00Z"}}}


def test_preview_names_documents_by_their_label_and_links_them(admin_client_, people):
    response = admin_client_.post(
        UPDATE_URL, compose_data(filters=[("age", "lt", "22")], updates=[("$set", "tier", "gold")])
    )
    samples = response.context["samples"]
    assert [sample["label"] for sample in samples] == ["User 0 · user0@example.com", "User 1 · user1@example.com"]
    first = people.find_one({"email": "user0@example.com"})
    assert samples[0]["url"] == f"/admin/bulk/collections/users/documents/{first['_id']}/"
    page = response.content.decode()
    assert f'<a href="{samples[0]["url"]}" class="bulk-label">User 0 · user0@example.com</a>' in page


def test_confirmed_five_row_update_writes_exactly_the_matches(admin_client_, people):
    updates = [("$set", "tier", "silver")]
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=FIVE, updates=updates))
    admin_client_.post(UPDATE_URL, confirm_data(preview, filters=FIVE, updates=updates))
    job = Job.objects.get()
    assert job.counts["modified"] == 18
    assert (job.parameters["expected"], job.rows_done, job.rows_total) == (18, 18, 18)  # the confirmed count
    assert people.count_documents({"tier": "silver"}) == 18
    assert people.count_documents({"tier": "silver", "age": {"$gte": 40}}) == 0
