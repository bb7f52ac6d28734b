"""Acting on what the browse page shows: its filter, search and ticked documents carried into Bulk
update, Bulk delete and Export… (links only for users who may use them), shown by the composer as
editable rows, and the bulk update touching exactly those documents."""

from __future__ import annotations

import pytest
from bson import ObjectId

from bulkadmin.models import Job
from bulkadmin.web.selection import MAX_IDS
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db

BROWSE, UPDATE, DELETE = "/admin/bulk/collections/users/", "/admin/bulk/update/", "/admin/bulk/delete/"
INACTIVE = ("User 1", "User 12", "User 15", "User 18", "User 21", "User 24", "User 3")
SET_GOLD = [("$set", "tier", "gold")]


@pytest.fixture
def mixed(people):
    people.update_many({"name": {"$in": list(INACTIVE)}}, {"$set": {"status": "inactive"}})
    return people


def carried_rows(response) -> list[tuple[str, str, str]]:
    rows = response.context["state"].filter_rows
    return [(f.initial.get("field"), f.initial.get("operator"), f.initial.get("value")) for f in rows.initial_forms]


def run_update(client, *, filters, search: str = "") -> Job:
    """Preview, then confirm with the count, a `$set tier gold` of the rows and search given."""
    preview = client.post(UPDATE, compose_data(filters=filters, updates=SET_GOLD, search=search))
    assert preview.status_code == 200, preview.context["state"].errors
    client.post(UPDATE, confirm_data(preview, filters=filters, updates=SET_GOLD, search=search))
    return Job.objects.get(kind=Job.Kind.UPDATE)


def test_the_browse_page_ticks_documents_and_carries_its_filter_and_search(admin_client_, mixed):
    page = admin_client_.get(BROWSE, {"status": "inactive", "q": "User 1"}).content.decode()
    assert '<form method="get" id="selection-form"' in page
    assert '<input type="hidden" name="status" value="inactive">' in page
    assert '<input type="hidden" name="q" value="User 1">' in page
    for name in ("User 1", "User 12", "User 15", "User 18"):
        doc_id = mixed.find_one({"name": name})["_id"]
        assert f'name="ids" value="{doc_id}" form="selection-form"' in page
    assert page.count('class="bulk-select"') == 4
    assert all(f'formaction="/admin/bulk/{action}/"' in page for action in ("export", "update", "delete"))


@pytest.mark.parametrize(
    ("permissions", "shown"),
    [
        (("view_users",), ()),
        (("view_users", "export_users"), ("export",)),
        (("view_users", "change_users"), ("update",)),
        (("view_users", "export_users", "change_users", "delete_users"), ("export", "update", "delete")),
    ],
)
def test_the_actions_are_offered_only_to_users_who_may_use_them(login, mixed, permissions, shown):
    page = login(*permissions).get(BROWSE).content.decode()
    assert [action for action in ("export", "update", "delete") if f'formaction="/admin/bulk/{action}/"' in page] == [
        *shown
    ]
    assert ('class="bulk-select"' in page) == bool(shown)


def test_the_filter_and_search_become_editable_rows_and_the_update_touches_exactly_them(admin_client_, mixed):
    composer = admin_client_.get(UPDATE, {"collection": "users", "status": "inactive", "q": "User 1"})
    assert carried_rows(composer) == [("status", "eq", "inactive")]
    assert composer.context["state"].form["search"].value() == "User 1"
    assert "name starts with “User 1”" in composer.content.decode()

    job = run_update(admin_client_, filters=[("status", "eq", "inactive")], search="User 1")

    assert job.parameters["filter"] == {
        "$and": [
            {"status": "inactive"},
            {"$or": [{"name": {"$regex": "^User\\ 1"}}, {"email": {"$regex": "^user\\ 1"}}]},
        ]
    }
    assert sorted(d["name"] for d in mixed.find({"tier": "gold"})) == ["User 1", "User 12", "User 15", "User 18"]
    assert job.counts["modified"] == 4


def test_ticked_documents_become_an_id_row_and_only_they_are_updated(admin_client_, mixed):
    ticked = [str(mixed.find_one({"name": name})["_id"]) for name in ("User 2", "User 5", "User 7")]
    composer = admin_client_.get(UPDATE, {"collection": "users", "ids": ticked})
    assert carried_rows(composer) == [("id", "in", ", ".join(ticked))]

    run_update(admin_client_, filters=[("id", "in", ", ".join(ticked))])

    assert sorted(str(d["_id"]) for d in mixed.find({"tier": "gold"})) == sorted(ticked)


def test_select_all_matching_carries_the_filter_instead_of_the_ticked_ids(admin_client_, mixed):
    some = str(mixed.find_one({"name": "User 3"})["_id"])
    composer = admin_client_.get(DELETE, {"collection": "users", "status": "inactive", "ids": [some], "all": "1"})
    assert carried_rows(composer) == [("status", "eq", "inactive")]
    preview = admin_client_.post(DELETE, compose_data(filters=[("status", "eq", "inactive")]))
    assert preview.context["state"].preview.count == len(INACTIVE)


def test_a_boolean_choice_is_carried_as_the_composer_offers_it(admin_client_, mixed):
    mixed.update_one({"name": "User 6"}, {"$set": {"is_verified": True}})
    composer = admin_client_.get(UPDATE, {"collection": "users", "is_verified": "True"})
    assert carried_rows(composer) == [("is_verified", "eq", "true")]
    run_update(admin_client_, filters=carried_rows(composer))
    assert [d["name"] for d in mixed.find({"tier": "gold"})] == ["User 6"]


def test_too_many_ticked_documents_are_refused_with_a_message(admin_client_, mixed):
    ids = [str(ObjectId()) for _ in range(MAX_IDS + 1)]
    response = admin_client_.get(UPDATE, {"collection": "users", "ids": ids})
    assert response.status_code == 400
    assert f"at most {MAX_IDS:,} can be carried one by one" in response.content.decode()
    assert carried_rows(response) == []


def test_the_composer_without_a_carried_selection_is_as_before(admin_client_, mixed):
    composer = admin_client_.get(UPDATE, {"collection": "users"})
    assert carried_rows(composer) == [] and len(composer.context["state"].filter_rows.forms) == 3
    assert composer.context["state"].form["search"].value() in (None, "")
