"""A collection's `CollectionAdmin` decides what its pages show and allow: columns, search
fields, filters, default order, labels, read-only fields and default batch size; a wrong option
is refused when it is registered, naming it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulkadmin.core.collection_admin import CollectionAdmin
from bulkadmin.core.exceptions import ImproperlyDeclared
from bulkadmin.core.registry import site
from bulkadmin.models import Job
from project.collections import User, UserAdmin
from tests.web.helpers import compose_data, confirm_data

pytestmark = pytest.mark.django_db
URL = "/admin/bulk/collections/users/"


class NarrowAdmin(UserAdmin):
    list_display = ("email", "age")
    search_fields = ("email",)
    list_filter = ("tier",)
    ordering = "-last_login"
    batch_size = 123


@pytest.fixture
def narrow() -> Iterator[None]:
    site.register(User, NarrowAdmin)
    yield
    site.register(User, UserAdmin)


def test_the_browser_shows_the_admins_columns_filters_search_and_order(admin_client_, people, narrow):
    page = admin_client_.get(URL)
    assert page.context["columns"] == ["id", "email", "age"]
    assert [name for name, _, _, _ in page.context["filters"]] == ["tier"]
    assert page.context["search_fields"] == ["email"]
    assert page.context["sort"] == "-last_login"


def test_the_composer_starts_with_the_admins_batch_size(admin_client_, people, narrow):
    page = admin_client_.get("/admin/bulk/update/", {"collection": "users"})
    assert page.context["state"].form.initial["batch_size"] == 123


def test_a_read_only_field_is_refused_by_the_composer_and_by_a_queued_job(admin_client_, people):
    update = [("$set", "created_at", "2020-01-01T00:00:00Z")]
    preview = admin_client_.post("/admin/bulk/update/", compose_data(filters=[("age", "lt", "30")], updates=update))
    assert preview.status_code == 400
    assert "created_at is read-only in the users admin" in preview.content.decode()
    assert not Job.objects.exists()
    before = list(people.find({}, {"created_at": 1}).sort("_id"))
    job = Job.objects.create(
        kind="update", collection="users", parameters={"filter": {}, "update": {"$set": {"created_at": None}}}
    )
    from bulkadmin.core.exceptions import InvalidSpec
    from bulkadmin.jobs import kinds

    with pytest.raises(InvalidSpec):
        kinds.run_queued(job)
    job.refresh_from_db()
    assert job.status == "failed" and "created_at is read-only" in job.message
    assert list(people.find({}, {"created_at": 1}).sort("_id")) == before


def test_other_fields_still_update(admin_client_, people):
    filters, updates = [("age", "lt", "30")], [("$set", "tier", "gold")]
    preview = admin_client_.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    admin_client_.post("/admin/bulk/update/", confirm_data(preview, filters=filters, updates=updates))
    assert people.count_documents({"tier": "gold"}) == 10


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("list_display", ("nope",), "UserAdmin2.list_display names unknown field 'nope' of User."),
        ("search_fields", ("nope",), "UserAdmin2.search_fields names unknown field 'nope' of User."),
        ("ordering", "-nope", "UserAdmin2.ordering names unknown field 'nope' of User."),
        ("operations", frozenset({"explode"}), "UserAdmin2.operations names unknown operations ['explode']"),
        ("batch_size", 0, "UserAdmin2.batch_size must be at least 1, not 0."),
    ],
)
def test_a_wrong_option_is_refused_when_registered(option, value, message):
    wrong = type("UserAdmin2", (CollectionAdmin,), {option: value})
    with pytest.raises(ImproperlyDeclared) as refused:
        site.register(User, wrong)
    assert str(refused.value).startswith(message)
    assert type(site.admin("users")) is UserAdmin


class OwnRulesAdmin(UserAdmin):
    def has_permission(self, user, action):
        return action == "view" and user.username.endswith("@support")


@pytest.fixture
def own_rules() -> Iterator[None]:
    site.register(User, OwnRulesAdmin)
    yield
    site.register(User, UserAdmin)


def test_an_admin_may_decide_rights_itself_like_has_change_permission(make_user, client, people, own_rules):
    client.force_login(make_user("ann@support"))
    assert client.get(URL).status_code == 200
    assert client.get("/admin/bulk/update/", {"collection": "users"}).status_code == 403
    client.force_login(make_user("bob", "view_users", "change_users"))
    assert client.get(URL).status_code == 403
