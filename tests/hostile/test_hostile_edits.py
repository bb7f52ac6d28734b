"""One document at a time on the web, attacked by a staff user: forged `loaded` documents,
operator keys, deep and huge JSON, values MongoDB or the model refuse, the `_id` and read-only
fields posted anyway, stale and repeated posts, other collections' ids, missing rights, and
Undo of an edit after the document changed again. Each attack writes nothing it should not."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from bson import Decimal128, Int64, ObjectId, json_util
from bson.json_util import CANONICAL_JSON_OPTIONS
from django.test import Client

from bulkadmin.models import Job
from bulkadmin.operations.edits import write_filter
from project.collections import AnalyticsEvent, User, UserSession
from tests.web.document_edits import BASE, edit_url, form_data

pytestmark = pytest.mark.django_db


def canonical(document: Any) -> str:
    """A stored document as canonical Extended JSON, key order and types kept."""
    return json_util.dumps(document, json_options=CANONICAL_JSON_OPTIONS)


def loaded_form(client: Client, document: dict, **changes: str) -> dict[str, str]:
    return form_data(client.get(edit_url(document)), **changes)


def delete_token(client: Client, document: dict) -> str:
    page = client.get(f"{BASE}documents/{document['_id']}/").content.decode()
    return re.search(r'name="once" value="([^"]+)"', page).group(1)


def test_a_forged_loaded_document_with_extra_keys_is_refused_as_stale(admin_client_, db, ada):
    data = loaded_form(admin_client_, ada, name="Eve")
    forged = json.loads(data["loaded"])
    forged.update({"is_admin": True, "$set": {"x": 1}, "a.b": 1})
    data["loaded"] = json.dumps(forged)
    response = admin_client_.post(edit_url(ada), data)
    assert response.status_code == 200 and response.context["stale"] is not None
    assert db.users.find_one({"_id": ada["_id"]}) == ada


def test_a_forged_loaded_document_with_reordered_sub_document_keys_does_not_reorder_the_stored_one(
    admin_client_, db, ada
):
    data = loaded_form(admin_client_, ada, name="Eve")
    forged = json.loads(data["loaded"])
    forged["profile"] = {"avatar_url": None, "bio": "maths"}
    data["loaded"] = json.dumps(forged)
    response = admin_client_.post(edit_url(ada), data)
    assert response.status_code == 200 and response.context["stale"] is not None
    stored = db.users.find_one({"_id": ada["_id"]})
    assert list(stored["profile"]) == ["bio", "avatar_url"] and stored == ada


@pytest.mark.parametrize("forged_id", [{"$ne": None}, {"$regex": ".*"}, {"$gt": {"$oid": "000000000000000000000000"}}])
def test_a_loaded_id_holding_an_operator_is_not_a_document(admin_client_, db, ada, forged_id):
    before = canonical(ada)
    loaded = {**json.loads(canonical(ada)), "_id": forged_id}
    doc_id = str(json_util.loads(json.dumps(forged_id)))
    url = f"{BASE}documents/{quote(doc_id, safe='')}/delete/"
    response = admin_client_.post(url, {"loaded": json.dumps(loaded), "once": "x"})
    assert response.status_code == 404
    assert canonical(db.users.find_one({"_id": ada["_id"]})) == before and not Job.objects.exists()


@pytest.mark.parametrize("bad", ['{"$oid": "bad"}', '{"$numberDecimal": "x"}', '{"$dbPointer": {}}'])
def test_a_loaded_document_the_driver_cannot_read_is_refused(admin_client_, db, ada, bad):
    loaded = canonical(ada).replace('"name": "Ada"', f'"name": {bad}')
    response = admin_client_.post(edit_url(ada), {**loaded_form(admin_client_, ada, age="5"), "loaded": loaded})
    assert response.status_code == 404
    assert db.users.find_one({"_id": ada["_id"]}) == ada and not Job.objects.exists()


def test_a_deep_or_huge_loaded_document_is_refused(admin_client_, db, ada):
    deep = '{"_id": 1, "a": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = admin_client_.post(edit_url(ada), {"loaded": deep, "once": "x"})
    assert response.status_code == 404
    huge = json.dumps({**json.loads(canonical(ada)), "pad": "x" * 3_000_000})
    assert admin_client_.post(edit_url(ada), {"loaded": huge, "once": "y"}).status_code == 400
    assert db.users.find_one({"_id": ada["_id"]}) == ada and not Job.objects.exists()


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("profile", '{"$where": "sleep(1000)"}'),
        ("profile", '{"bio.x": "y"}'),
        ("tags", '[{"$set": 1}]'),
        ("tags", "[" * 10_000 + "]" * 10_000),
        ("external_id", '{"$gt": 1}'),
        ("external_id", "1e400"),
        ("external_id", '{"$numberLong": "9223372036854775808"}'),
        ("external_id", "99999999999999999999999"),
        ("age", "99999999999999999999999"),
        ("total_spent", "inf"),
        ("total_spent", "nan"),
        ("total_spent", "1e400"),
        ("discount", "nan"),
        ("name", "\x00"),
    ],
)
def test_a_value_mongodb_or_the_model_refuses_stores_nothing(admin_client_, db, ada, field, typed):
    response = admin_client_.post(edit_url(ada), loaded_form(admin_client_, ada, **{field: typed}))
    assert response.status_code == 200 and response.context["form"].errors, (field, typed)
    assert db.users.find_one({"_id": ada["_id"]}) == ada
    assert Job.objects.filter(status="succeeded").count() == 0


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("total_spent", "inf"),
        ("age", "-1"),
        ("external_id", '{"$oid": "bad"}'),
        ("external_id", '{"$numberDecimal": "x"}'),
        ("external_id", '{"$date": {"$numberLong": "99999999999999999999"}}'),
        ("external_id", '{"$dbPointer": {}}'),
        ("external_id", '{"$regularExpression": {"pattern": "(", "options": ""}}'),
    ],
)
def test_add_of_a_refused_value_stores_nothing(admin_client_, db, field, typed):
    url = f"{BASE}add/"
    data = form_data(admin_client_.get(url), name="New", email="new@example.com", **{field: typed})
    response = admin_client_.post(url, data)
    assert response.status_code == 200 and response.context["form"].errors
    assert db.users.count_documents({}) == 0


def test_the_id_and_a_read_only_field_posted_anyway_are_ignored(admin_client_, db, ada):
    data = loaded_form(admin_client_, ada, name="Ada L")
    data.update({"doc-id": str(ObjectId()), "doc-_id": "5", "doc-created_at": "1999-01-01T00:00", "_id": "5"})
    admin_client_.post(edit_url(ada), data)
    assert db.users.find_one({"_id": ada["_id"]}) == {**ada, "name": "Ada L"}
    assert db.users.count_documents({}) == 1
    url = f"{BASE}add/"
    added = form_data(admin_client_.get(url), name="N", email="n@example.com")
    added.update({"doc-id": "7", "doc-created_at": "1999-01-01T00:00"})
    admin_client_.post(url, added)
    stored = db.users.find_one({"email": "n@example.com"})
    assert isinstance(stored["_id"], ObjectId) and stored["created_at"].year > 2000


def test_two_clients_saving_the_same_loaded_document_one_wins_the_other_is_refused(make_user, db, ada):
    first, second = Client(), Client()
    first.force_login(make_user("one", superuser=True))
    second.force_login(make_user("two", superuser=True))
    mine, theirs = loaded_form(first, ada, name="One"), loaded_form(second, ada, age="99")
    assert first.post(edit_url(ada), mine).status_code == 302
    refused = second.post(edit_url(ada), theirs)
    assert refused.status_code == 200 and refused.context["stale"] is not None
    stored = db.users.find_one({"_id": ada["_id"]})
    assert (stored["name"], stored["age"]) == ("One", ada["age"])
    assert sorted(Job.objects.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_deleting_a_document_already_deleted_writes_nothing(admin_client_, db, ada):
    loaded = admin_client_.get(f"{BASE}documents/{ada['_id']}/").context["loaded"]
    url = f"{BASE}documents/{ada['_id']}/delete/"
    assert admin_client_.post(url, {"loaded": loaded, "once": "first"}).status_code == 302
    db.users.insert_one({**ada, "_id": ObjectId()})
    again = admin_client_.post(url, {"loaded": loaded, "once": "second"})
    assert again.status_code == 302 and again["Location"] == f"{BASE}documents/{ada['_id']}/"
    assert db.users.count_documents({}) == 1
    assert list(Job.objects.order_by("pk").values_list("status", flat=True)) == ["succeeded", "failed"]


def test_a_document_of_another_collection_cannot_be_edited_or_deleted_through_this_one(admin_client_, db, ada):
    session = UserSession(token="t", expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)).to_document()
    db.user_sessions.insert_one(session)
    assert admin_client_.get(f"{BASE}documents/{session['_id']}/edit/").status_code == 404
    url = f"{BASE}documents/{session['_id']}/delete/"
    admin_client_.post(url, {"loaded": canonical(session), "once": "x"})
    data = loaded_form(admin_client_, ada, name="X")
    data["loaded"] = canonical(session)
    admin_client_.post(f"{BASE}documents/{session['_id']}/edit/", data)
    assert db.user_sessions.find_one() == session and db.users.find_one() == ada


def test_delete_needs_the_delete_right_even_with_a_valid_form(client, make_user, db, ada):
    client.force_login(make_user("editor", "view_users", "change_users"))
    loaded = client.get(f"{BASE}documents/{ada['_id']}/").context["loaded"]
    response = client.post(f"{BASE}documents/{ada['_id']}/delete/", {"loaded": loaded, "once": "x"})
    assert response.status_code == 403 and db.users.find_one() == ada and not Job.objects.exists()


def test_analytics_events_refuse_posted_adds_edits_and_deletes(admin_client_, db):
    event = AnalyticsEvent(type="page_view", page="/").to_document()
    db.analytics_events.insert_one(event)
    base = "/admin/bulk/collections/analytics_events/"
    loaded = canonical(event)
    posts = [
        (f"{base}add/", {"doc-type": "user_action", "doc-action": "x", "once": "a"}),
        (f"{base}documents/{event['_id']}/edit/", {"doc-page": "/evil", "loaded": loaded, "once": "b"}),
        (f"{base}documents/{event['_id']}/delete/", {"loaded": loaded, "once": "c"}),
    ]
    for url, data in posts:
        assert admin_client_.post(url, data).status_code == 403, url
    assert list(db.analytics_events.find()) == [event] and not Job.objects.exists()


def test_undo_of_an_edit_after_the_document_changed_again_is_refused(admin_client_, db, ada):
    admin_client_.post(edit_url(ada), loaded_form(admin_client_, ada, name="First"))
    job = Job.objects.get(kind="edit")
    db.users.update_one({"_id": ada["_id"]}, {"$set": {"name": "Second"}})
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert db.users.find_one({"_id": ada["_id"]})["name"] == "Second"
    undo = Job.objects.filter(kind="undo").first()
    assert undo is None or undo.counts.get("updated", 0) == 0


def test_saving_one_field_keeps_every_other_type_exactly(admin_client_, db):
    document = {
        "_id": ObjectId(),
        "name": "Typed",
        "email": "typed@example.com",
        "age": Int64(40),
        "status": "active",
        "tier": None,
        "discount": 0.5,
        "total_spent": 12,
        "external_id": Int64(2**40),
        "is_active": True,
        "is_verified": False,
        "profile": {"bio": "b\nc", "avatar_url": None},
        "tags": ["x", "y"],
        "created_at": dt.datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
        "last_login": dt.datetime(2021, 1, 2, 3, 4, 5, 1000, tzinfo=dt.UTC),
        "last_sync": None,
        "external_updated_at": None,
        "legacy": {
            "price": Decimal128("1.10"),
            "matrix": [[1, [2.5, Int64(3)]], []],
            "when": dt.datetime(2019, 5, 6, tzinfo=dt.UTC),
        },
    }
    db.users.insert_one(document)
    before = json.loads(canonical(db.users.find_one()))
    url = f"{BASE}documents/{document['_id']}/edit/"
    assert admin_client_.post(url, form_data(admin_client_.get(url))).status_code == 302
    assert json.loads(canonical(db.users.find_one())) == before
    assert admin_client_.post(url, form_data(admin_client_.get(url), tier="gold")).status_code == 302
    after = json.loads(canonical(db.users.find_one()))
    assert after == {**before, "tier": "gold"} and list(after) == list(before)


@pytest.mark.parametrize(
    "meanwhile",
    [
        {"$set": {"note": "added by another client"}},
        {"$set": {"profile.extra": 1}},
        {"$unset": {"profile.bio": ""}},
        {"$set": {"profile": "text"}},
    ],
)
def test_a_key_added_or_removed_between_the_check_and_the_write_is_not_wiped(db, ada, meanwhile):
    """The conditional write finds nothing once another client added a key the model does not
    know (or removed one), so that change is refused, never overwritten."""
    condition = write_filter(User, ada)
    assert db.users.count_documents(condition) == 1
    db.users.update_one({"_id": ada["_id"]}, meanwhile)
    assert db.users.count_documents(condition) == 0
    assert db.users.replace_one(condition, {**ada, "name": "Late"}).matched_count == 0


def test_a_stored_value_outside_the_choices_is_shown_selected_not_replaced_by_the_first_choice(admin_client_, db):
    """A browser sends a select's first option when none is selected: the stored legacy value is
    offered selected, so an untouched status is not silently rewritten, and the model refuses it."""
    document = {**User(name="L", email="l@example.com").to_document(), "status": "banned", "is_active": 1}
    db.users.insert_one(document)
    url = f"{BASE}documents/{document['_id']}/edit/"
    page = admin_client_.get(url)
    assert '<option value="banned" selected>' in page.content.decode()
    refused = admin_client_.post(url, form_data(page, name="L2"))
    assert "status" in refused.context["form"].errors
    assert db.users.find_one() == document
    assert admin_client_.post(url, form_data(admin_client_.get(url), name="L2", status="active")).status_code == 302
    stored = db.users.find_one()
    assert (stored["name"], stored["status"], stored["is_active"]) == ("L2", "active", 1)


def test_undo_of_an_add_after_the_document_was_edited_does_not_delete_it(admin_client_, db):
    url = f"{BASE}add/"
    admin_client_.post(url, form_data(admin_client_.get(url), name="New", email="new@example.com"))
    added = db.users.find_one()
    job = Job.objects.get(kind="edit")
    db.users.update_one({"_id": added["_id"]}, {"$set": {"age": 60}})
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert db.users.find_one() == {**added, "age": 60}


def test_undo_of_a_delete_after_the_id_was_used_again_does_not_overwrite_it(admin_client_, db, ada):
    loaded = admin_client_.get(f"{BASE}documents/{ada['_id']}/").context["loaded"]
    admin_client_.post(f"{BASE}documents/{ada['_id']}/delete/", {"loaded": loaded, "once": "d"})
    job = Job.objects.get(kind="edit")
    reused = {"_id": ada["_id"], "name": "Other", "email": "other@example.com"}
    db.users.insert_one(reused)
    admin_client_.post(f"/admin/bulk/jobs/{job.pk}/undo/")
    assert list(db.users.find()) == [reused]


def test_a_value_with_markup_is_shown_escaped_in_the_job_changes(admin_client_, db, ada):
    admin_client_.post(edit_url(ada), loaded_form(admin_client_, ada, name="<script>alert(1)</script>"))
    job = Job.objects.get(kind="edit")
    page = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
