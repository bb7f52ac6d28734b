"""Bulk update and bulk delete pages: preview, typed confirmation, the job, bad input."""

from __future__ import annotations

import pytest

from bulkadmin.models import Job
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db

UPDATE_URL, DELETE_URL = "/admin/bulk/update/", "/admin/bulk/delete/"
YOUNG = [("age", "lt", "30")]
SET_GOLD = [("$set", "tier", "gold")]


def test_update_page_lists_collections_then_the_model_fields(admin_client_, people):
    assert b"users" in admin_client_.get(UPDATE_URL).content
    page = admin_client_.get(UPDATE_URL, {"collection": "users"}).content.decode()
    assert 'value="total_spent"' in page and 'value="profile.bio"' in page and "$addToSet" in page


def test_update_preview_shows_count_and_samples_before_after_without_writing(admin_client_, people):
    response = admin_client_.post(UPDATE_URL, compose_data(filters=YOUNG, updates=SET_GOLD))
    assert response.status_code == 200
    preview = response.context["state"].preview
    assert preview.count == 10
    assert len(response.context["samples"]) == 5
    assert response.context["samples"][0]["changes"] == [("tier", "—", "gold")]
    assert b"type their number (10)" in response.content
    assert people.count_documents({"tier": "gold"}) == 0
    assert not Job.objects.exists()


def test_confirmed_update_runs_as_a_job_and_writes_exactly_the_matches(admin_client_, people):
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=YOUNG, updates=SET_GOLD))
    response = admin_client_.post(UPDATE_URL, confirm_data(preview, filters=YOUNG, updates=SET_GOLD))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert (job.kind, job.status, job.origin, job.user.username) == ("update", "succeeded", "web", "root")
    specs = {"filter": {"age": {"$lt": "30"}}, "update": {"$set": {"tier": "gold"}}}
    assert job.parameters == {**specs, "batch_size": 7, "expected": 10}
    assert (job.counts["matched"], job.counts["modified"], len(job.batches)) == (10, 10, 2)
    assert people.count_documents({"tier": "gold"}) == 10
    assert people.count_documents({"tier": "gold", "age": {"$gte": 30}}) == 0


def test_update_rows_with_several_operators_are_typed_by_the_model(admin_client_, people):
    updates = [("$inc", "age", "2"), ("$push", "tags", "vip"), ("$currentDate", "last_login", "")]
    preview = admin_client_.post(
        UPDATE_URL, compose_data(filters=[("email", "eq", "user3@example.com")], updates=updates)
    )
    assert preview.context["state"].preview.count == 1
    admin_client_.post(
        UPDATE_URL, confirm_data(preview, filters=[("email", "eq", "user3@example.com")], updates=updates)
    )
    stored = people.find_one({"email": "user3@example.com"})
    assert (stored["age"], stored["tags"]) == (25, ["vip"])
    assert stored["last_login"] is not None


def test_wrong_typed_count_does_not_run(admin_client_, people):
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=YOUNG, updates=SET_GOLD))
    response = admin_client_.post(UPDATE_URL, confirm_data(preview, typed="9", filters=YOUNG, updates=SET_GOLD))
    assert response.status_code == 400
    assert b"type the number of matching documents (10)" in response.content
    assert not Job.objects.exists() and people.count_documents({"tier": "gold"}) == 0


def test_changing_the_filter_after_the_preview_asks_for_a_new_preview(admin_client_, people):
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=YOUNG, updates=SET_GOLD))
    data = confirm_data(preview, filters=[("age", "lt", "40")], updates=SET_GOLD)
    response = admin_client_.post(UPDATE_URL, data)
    assert b"changed since the preview" in response.content
    assert not Job.objects.exists()


def test_count_changed_since_preview_is_refused(admin_client_, people):
    preview = admin_client_.post(UPDATE_URL, compose_data(filters=YOUNG, updates=SET_GOLD))
    people.delete_one({"email": "user0@example.com"})
    response = admin_client_.post(UPDATE_URL, confirm_data(preview, typed="10", filters=YOUNG, updates=SET_GOLD))
    assert (
        b"changed from 10 to 9" in response.content or b"type the number of matching documents (9)" in response.content
    )
    assert not Job.objects.exists()


def test_update_written_as_json_works_like_rows(admin_client_, people):
    fields = {"filter_json": '{"age": {"$gte": 45}}', "update_json": '{"$set": {"status": "mature"}}'}
    preview = admin_client_.post(UPDATE_URL, compose_data(**fields))
    assert preview.context["state"].preview.count == 5
    admin_client_.post(UPDATE_URL, confirm_data(preview, **fields))
    assert people.count_documents({"status": "mature"}) == 5


def test_delete_preview_confirm_and_job(admin_client_, people):
    filters = [("age", "gte", "40")]
    preview = admin_client_.post(DELETE_URL, compose_data(filters=filters))
    assert preview.context["state"].preview.count == 10
    assert b"Run delete" in preview.content
    admin_client_.post(DELETE_URL, confirm_data(preview, filters=filters))
    job = Job.objects.get()
    assert (job.kind, job.status, job.counts["deleted"]) == ("delete", "succeeded", 10)
    assert people.count_documents({}) == 20


def test_filter_rows_in_and_contains_and_exists(admin_client_, people):
    cases = [
        ([("age", "in", "20, 21, 22")], 3),
        ([("email", "contains", "USER1")], 11),
        ([("tier", "exists", "true")], 30),
        ([("age", "gte", "25"), ("age", "lt", "27")], 2),
    ]
    for filters, expected in cases:
        response = admin_client_.post(DELETE_URL, compose_data(filters=filters))
        assert response.context["state"].preview.count == expected, filters


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"filter_json": '{"$where": "sleep(1000)"}'}, "Operator $where is not allowed in a filter"),
        ({"filter_json": '{"age": '}, "The filter JSON is not valid: Expecting value (line 1, column"),
        ({"filter_json": "[1, 2]"}, "The filter JSON must be an object"),
        ({"filter_json": '{"nickname": "x"}'}, "Unknown field 'nickname' for User"),
        ({"filters": [("age", "gt", "old")]}, "age: Input should be a valid integer"),
        ({"filters": [("tier", "exists", "maybe")]}, "exists' needs true or false"),
        ({"updates": [("$inc", "age", "many")]}, "$inc needs a number for 'age'"),
        ({"updates": [("$set", "tier", "diamond")]}, "tier: Input should be"),
        ({"update_json": '{"$rename": {"name": "n"}}'}, "Operator $rename is not allowed in a update"),
        ({"update_json": '{"$set": {"id": "x"}}'}, "the id of a document cannot be changed"),
        ({"updates": [], "update_json": ""}, "The update is empty"),
        ({"filters": YOUNG, "filter_json": "{}"}, "either with the rows or as JSON, not both"),
    ],
)
def test_bad_input_gives_a_clear_message_and_no_job(admin_client_, people, fields, message):
    fields.setdefault("updates", SET_GOLD) if "update_json" not in fields else None
    response = admin_client_.post(UPDATE_URL, compose_data(**fields))
    assert response.status_code == 400
    assert message in " ".join(response.context["state"].errors)
    assert "Traceback" not in response.content.decode()
    assert response.context["state"].preview is None
    assert not Job.objects.exists()


def test_unknown_collection_is_a_404_naming_the_registered_ones(admin_client_, db):
    response = admin_client_.get(UPDATE_URL, {"collection": "nope"})
    assert response.status_code == 404


def test_rerun_fills_the_rows_from_the_job(admin_client_, people):
    spec = {"$and": [{"age": "20"}, {"tier": {"$in": ["gold", "silver"]}}, {"last_login": {"$lt": "2024-01-01"}}]}
    parameters = {"filter": spec, "update": {"$inc": {"age": 1}, "$unset": {"tags": ""}}}
    job = Job.objects.create(kind="update", collection="users", parameters=parameters)
    state = admin_client_.get(UPDATE_URL, {"collection": "users", "rerun": job.pk}).context["state"]
    assert [form.initial for form in state.filter_rows.forms[:3]] == [
        {"field": "age", "operator": "eq", "value": "20"},
        {"field": "tier", "operator": "in", "value": "gold, silver"},
        {"field": "last_login", "operator": "lt", "value": "2024-01-01"},
    ]
    assert [form.initial for form in state.update_rows.forms[:2]] == [
        {"operator": "$inc", "field": "age", "value": "1"},
        {"operator": "$unset", "field": "tags", "value": ""},
    ]
    assert "filter_json" not in state.form.initial and "update_json" not in state.form.initial


def test_rerun_of_a_filter_rows_cannot_say_fills_the_json_field(admin_client_, people):
    spec = {"$or": [{"age": 20}, {"tier": "gold"}]}
    job = Job.objects.create(
        kind="update", collection="users", parameters={"filter": spec, "update": {"$inc": {"age": 1}}}
    )
    state = admin_client_.get(UPDATE_URL, {"collection": "users", "rerun": job.pk}).context["state"]
    assert state.form.initial["filter_json"] == '{"$or": [{"age": 20}, {"tier": "gold"}]}'
    assert state.filter_rows.forms[0].initial == {}
    assert state.update_rows.forms[0].initial == {"operator": "$inc", "field": "age", "value": "1"}
