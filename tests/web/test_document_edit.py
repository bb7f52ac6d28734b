"""One document at a time on the web: the form generated from the model, its validation, the
stale-edit refusal, edit jobs with Undo restoring exactly, the per-document history and rights."""

from __future__ import annotations

import re

import pytest
from bson import ObjectId

from bulkadmin.bulk import bulk_insert
from bulkadmin.jobs.runner import track_job
from bulkadmin.models import Job
from bulkadmin.operations import updates
from project.collections import AnalyticsEvent, User
from tests.factories import user
from tests.web.document_edits import BASE, edit_url, form_data

pytestmark = pytest.mark.django_db


def _edit(client, document: dict, **changes: str):
    url = edit_url(document)
    return client.post(url, form_data(client.get(url), **changes))


def test_the_form_has_typed_inputs_choices_and_json_for_sub_documents(admin_client_, ada):
    page = admin_client_.get(f"{BASE}documents/{ada['_id']}/edit/").content.decode()
    assert re.search(r'<input type="number" name="doc-age" value="21" step="1"', page)
    assert re.search(r'<input type="number" name="doc-discount" value="0.0" step="any"', page)
    assert 'type="datetime-local" name="doc-last_login" value="2026-03-04T05:06:07.123"' in page
    assert re.search(r'<select name="doc-tier"[^>]*>\s*<option value="" selected>\(none\)</option>', page)
    assert '<option value="true" selected>true</option>' in page  # is_active
    shown = "{&quot;bio&quot;: &quot;maths&quot;, &quot;avatar_url&quot;: null}"
    assert re.search(rf'<textarea name="doc-profile"[^>]*>\n{re.escape(shown)}</textarea>', page)
    assert re.search(r'<input type="datetime-local" name="doc-created_at"[^>]*disabled', page)  # read-only in UserAdmin


def test_a_save_changes_only_what_was_typed_as_an_edit_job_with_before_and_after(admin_client_, db, ada):
    response = _edit(admin_client_, ada, name="Ada Lovelace", tier="gold", tags='["a", "b", "c"]')
    assert response.status_code == 302 and response["Location"] == f"{BASE}documents/{ada['_id']}/"
    assert db.users.find_one({"_id": ada["_id"]}) == {
        **ada,
        "name": "Ada Lovelace",
        "tier": "gold",
        "tags": ["a", "b", "c"],
    }
    job = Job.objects.get(kind="edit")
    assert (job.status, job.user.username, job.counts["updated"]) == ("succeeded", "root", 1)
    assert job.parameters["action"] == "save" and job.parameters["doc_id"] == str(ada["_id"])
    assert job.parameters["changes"] == [
        {"field": "name", "before": '"Ada"', "after": '"Ada Lovelace"'},
        {"field": "tier", "before": "null", "after": '"gold"'},
        {"field": "tags", "before": '["a", "b"]', "after": '["a", "b", "c"]'},
    ]
    job_page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert re.search(r"<tr><td>name</td><td class=\"bulk-old\">&quot;Ada&quot;</td>", job_page)
    assert f'href="{BASE}documents/{ada["_id"]}/" id="edited-document"' in job_page


def test_an_untouched_form_saves_nothing_and_keeps_every_value_exactly(admin_client_, db, ada):
    assert _edit(admin_client_, ada).status_code == 302
    assert db.users.find_one({"_id": ada["_id"]}) == ada
    assert Job.objects.get(kind="edit").counts["unchanged"] == 1


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("age", "400", "Input should be less than or equal to 150"),
        ("email", "not an email", "should be an email address such as name@example.com"),
        ("status", "sleeping", "Select a valid choice"),
        ("profile", "{bad", "Not valid JSON"),
        ("profile", '{"bio": 5}', "profile.bio: Input should be a valid string"),
        ("last_login", "yesterday", "Input should be a valid datetime"),
        ("name", "", "String should have at least 1 character"),
    ],
)
def test_a_bad_value_is_an_error_on_its_field_and_nothing_is_stored(admin_client_, db, ada, field, typed, message):
    response = _edit(admin_client_, ada, **{field: typed})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in errors[field][0]
    assert "Please correct the errors below; nothing was saved." in response.content.decode()
    assert db.users.find_one({"_id": ada["_id"]}) == ada
    assert not Job.objects.exists()


def test_a_document_changed_since_the_form_was_loaded_is_not_overwritten(admin_client_, db, ada):
    url = f"{BASE}documents/{ada['_id']}/edit/"
    data = form_data(admin_client_.get(url), name="Mine")
    db.users.update_one({"_id": ada["_id"]}, {"$set": {"age": 77, "tier": "silver"}})
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert [(c.field, c.before, c.after) for c in response.context["stale"].changes] == [
        ("age", "21", "77"),
        ("tier", "null", '"silver"'),
    ]
    page = response.content.decode()
    assert "This document changed since you loaded it; nothing was saved" in page and 'id="reload-link"' in page
    stored = db.users.find_one({"_id": ada["_id"]})
    assert (stored["name"], stored["age"], stored["tier"]) == ("Ada", 77, "silver")
    assert Job.objects.get(kind="edit").status == "failed"


def test_a_document_deleted_since_the_form_was_loaded_is_not_written_back(admin_client_, db, ada):
    url = f"{BASE}documents/{ada['_id']}/edit/"
    data = form_data(admin_client_.get(url), name="Mine")
    db.users.delete_one({"_id": ada["_id"]})
    response = admin_client_.post(url, data)
    assert response.context["gone"] is True
    assert "This document was deleted since you loaded it; nothing was saved." in response.content.decode()
    assert db.users.count_documents({}) == 0


def test_the_same_form_posted_twice_saves_once(admin_client_, db, ada):
    url = f"{BASE}documents/{ada['_id']}/edit/"
    data = form_data(admin_client_.get(url), age="30")
    first, second = admin_client_.post(url, data), admin_client_.post(url, data)
    job = Job.objects.get(kind="edit")
    assert first.status_code == 302 and second["Location"] == f"/admin/bulk/jobs/{job.pk}/"
    assert db.users.find_one({"_id": ada["_id"]})["age"] == 30


def test_undo_of_a_save_restores_the_document_exactly(admin_client_, db, ada):
    _edit(admin_client_, ada, name="Changed", last_login="2020-01-01T00:00", profile='{"bio": "x"}')
    job = Job.objects.get(kind="edit")
    detail = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    assert detail.context["actions"]["undo"] is True
    assert detail.context["actions"]["undo_question"] == "Put the document back as it was before this edit?"
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    undo_job = Job.objects.get(kind="undo")
    assert undo_job.status == "succeeded" and undo_job.counts["updated"] == 1
    assert db.users.find_one({"_id": ada["_id"]}) == ada
    history = admin_client_.get(f"{BASE}documents/{ada['_id']}/").context["jobs"]
    assert history == [undo_job, job]


def test_add_makes_a_document_with_the_model_defaults_and_undo_deletes_it(admin_client_, db):
    url = f"{BASE}add/"
    form_page = admin_client_.get(url)
    assert "doc-created_at" not in form_page.content.decode()  # read-only: its default applies
    response = admin_client_.post(url, form_data(form_page, name="New", email="New@Example.com", age="33"))
    stored = db.users.find_one({"email": "new@example.com"})
    assert response["Location"] == f"{BASE}documents/{stored['_id']}/"
    assert (stored["name"], stored["age"], stored["status"], stored["tier"], stored["tags"]) == (
        "New",
        33,
        "active",
        None,
        [],
    )
    job = Job.objects.get(kind="edit")
    assert job.parameters["action"] == "add" and job.counts["inserted"] == 1
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert db.users.count_documents({}) == 0


def test_add_without_a_required_field_or_with_a_taken_key_is_refused(admin_client_, db, ada):
    url = f"{BASE}add/"
    missing = admin_client_.post(url, form_data(admin_client_.get(url), name="No mail"))
    assert missing.context["form"].errors == {"email": ["Field required"]}
    taken = admin_client_.post(url, form_data(admin_client_.get(url), name="Twin", email=ada["email"]))
    assert taken.context["form"].errors["email"] == [f'Another document already has this email "{ada["email"]}".']
    assert db.users.count_documents({}) == 1


def test_delete_from_the_document_page_then_undo_puts_it_back(admin_client_, db, ada):
    page = admin_client_.get(f"{BASE}documents/{ada['_id']}/")
    token = re.search(r'name="once" value="([^"]+)"', page.content.decode()).group(1)
    data = {"loaded": page.context["loaded"], "once": token}
    response = admin_client_.post(f"{BASE}documents/{ada['_id']}/delete/", data)
    assert response["Location"] == BASE and db.users.count_documents({}) == 0
    assert admin_client_.post(f"{BASE}documents/{ada['_id']}/delete/", data).status_code == 302
    job = Job.objects.get(kind="edit")
    assert job.parameters["action"] == "delete" and job.counts["deleted"] == 1
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert db.users.find_one({"_id": ada["_id"]}) == ada


def test_a_delete_of_a_changed_document_keeps_it_and_says_what_changed(admin_client_, db, ada):
    page = admin_client_.get(f"{BASE}documents/{ada['_id']}/")
    token = re.search(r'name="once" value="([^"]+)"', page.content.decode()).group(1)
    db.users.update_one({"_id": ada["_id"]}, {"$set": {"age": 50}})
    response = admin_client_.post(
        f"{BASE}documents/{ada['_id']}/delete/", {"loaded": page.context["loaded"], "once": token}, follow=True
    )
    assert "Not deleted: Document" in response.content.decode() and "age: 21 → 50" in response.content.decode()
    assert db.users.find_one({"_id": ada["_id"]})["age"] == 50


def _update(email: str, tier: str) -> Job:
    job = Job.objects.create(kind="update", collection="users")
    with track_job(kind="update", job=job):
        updates.run_update(model=User, filter={"email": email}, update={"$set": {"tier": tier}}, undo_key=job.pk)
    return job


def test_the_document_page_lists_exactly_the_jobs_that_touched_it(admin_client_, db, ada):
    bulk_insert(User, [user(2)], db=db)
    touched = _update(ada["email"], "gold")
    _update("user2@example.com", "silver")
    Job.objects.create(kind="update", collection="users", status="succeeded")
    ada = db.users.find_one({"_id": ada["_id"]})
    _edit(admin_client_, ada, age="40")
    edited = Job.objects.get(kind="edit")
    page = admin_client_.get(f"{BASE}documents/{ada['_id']}/")
    assert page.context["jobs"] == [edited, touched]
    assert "Jobs that touched this document" in page.content.decode()


@pytest.mark.parametrize(
    ("permissions", "method", "path", "missing"),
    [
        (("view_users",), "get", "edit/", "bulkadmin.change_users"),
        (("view_users",), "post", "edit/", "bulkadmin.change_users"),
        (("view_users",), "get", "add/", "bulkadmin.change_users"),
        (("view_users", "change_users"), "post", "delete/", "bulkadmin.delete_users"),
    ],
)
def test_a_user_without_the_right_is_refused_naming_the_permission(login, db, ada, permissions, method, path, missing):
    client = login(*permissions)
    url = f"{BASE}add/" if path == "add/" else f"{BASE}documents/{ada['_id']}/{path}"
    response = getattr(client, method)(url, {"loaded": "{}"} if method == "post" else None)
    assert response.status_code == 403 and missing in response.content.decode()
    assert db.users.find_one({"_id": ada["_id"]}) == ada and not Job.objects.exists()


def test_the_document_page_offers_edit_and_delete_only_with_the_rights(login, ada):
    viewer = login("view_users").get(f"{BASE}documents/{ada['_id']}/").content.decode()
    assert 'id="edit-button"' not in viewer and 'id="delete-document-button"' not in viewer
    editor = login("view_users", "change_users", name="editor").get(f"{BASE}documents/{ada['_id']}/").content.decode()
    assert 'id="edit-button"' in editor and 'id="delete-document-button"' not in editor
    browse = login("view_users", "change_users", name="adder").get(BASE).content.decode()
    assert 'id="add-button"' in browse


def test_a_collection_that_disallows_edits_refuses_them_to_everyone(admin_client_, db):
    event = AnalyticsEvent(type="page_view", page="/").to_document()
    db.analytics_events.insert_one(event)
    base = "/admin/bulk/collections/analytics_events/"
    for response in (admin_client_.get(f"{base}documents/{event['_id']}/edit/"), admin_client_.get(f"{base}add/")):
        assert response.status_code == 403
        assert "The collection analytics_events does not allow single edits." in response.content.decode()
    assert 'id="edit-button"' not in admin_client_.get(f"{base}documents/{event['_id']}/").content.decode()
    assert 'id="add-button"' not in admin_client_.get(base).content.decode()


def test_a_read_only_field_cannot_be_changed_through_the_form(admin_client_, db, ada):
    url = f"{BASE}documents/{ada['_id']}/edit/"
    data = form_data(admin_client_.get(url), name="Ada L")
    data["doc-created_at"] = "1999-01-01T00:00"
    admin_client_.post(url, data)
    stored = db.users.find_one({"_id": ada["_id"]})
    assert stored["name"] == "Ada L" and stored["created_at"] == ada["created_at"]


def test_a_form_of_another_document_is_not_accepted(admin_client_, db, ada):
    url = f"{BASE}documents/{ada['_id']}/edit/"
    data = form_data(admin_client_.get(url), name="Elsewhere")
    response = admin_client_.post(f"{BASE}documents/{ObjectId()}/edit/", data)
    assert response.status_code == 404 and db.users.find_one({"_id": ada["_id"]}) == ada


def _with_tags_of(db, megabytes: float) -> dict:
    """A stored user whose tags make it about `megabytes` as Extended JSON."""
    row = user(2, name="Big", tags=["t" * 998] * int(megabytes * 1000))
    bulk_insert(User, [row], db=db)
    return db.users.find_one({"name": "Big"})


def test_a_document_too_large_for_the_form_is_refused_on_opening_naming_the_limit(admin_client_, db):
    big = _with_tags_of(db, 1.3)
    response = admin_client_.get(f"{BASE}documents/{big['_id']}/edit/", follow=True)
    assert response.redirect_chain == [(f"{BASE}documents/{big['_id']}/", 302)]
    text = response.content.decode()
    assert "This document is 1.3 MB as Extended JSON, too large to edit in the browser" in text
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in text and "Bulk update" in text
    assert db.users.find_one({"_id": big["_id"]}) == big


def test_a_document_of_one_megabyte_is_edited_and_saved_through_the_form(admin_client_, db):
    big = _with_tags_of(db, 1.0)
    response = _edit(admin_client_, big, name="Renamed")
    assert response.status_code == 302 and Job.objects.get(kind="edit").status == "succeeded"
    assert db.users.find_one({"_id": big["_id"]}) == {**big, "name": "Renamed"}
