"""The collection registry: register, unregister, lookup with helpful errors, autodiscovery."""

from __future__ import annotations

import pytest

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import AlreadyRegistered, ImproperlyDeclared, NotRegistered
from bulkadmin.core.registry import CollectionRegistry, index_models, site
from project.collections import User


class Note(MongoModel):
    collection = "notes"
    key_fields = ("slug",)
    slug: str


def test_project_collections_are_autodiscovered():
    assert site.names() == [
        "analytics_events",
        "application_logs",
        "file_records",
        "page_stats",
        "user_sessions",
        "users",
    ]
    assert site.get("users") is User


def test_register_lookup_and_unregister():
    registry = CollectionRegistry()
    registry.register(Note)
    assert registry.get("notes") is Note
    assert "notes" in registry
    registry.unregister(Note)
    with pytest.raises(NotRegistered) as caught:
        registry.get("notes")
    assert caught.value.valid_names == []


def test_registering_another_model_under_a_taken_name_fails():
    registry = CollectionRegistry()
    registry.register(Note)
    registry.register(Note)  # the same model again is harmless

    class OtherNote(MongoModel):
        collection = "notes"

    with pytest.raises(AlreadyRegistered, match="already registered to .*Note"):
        registry.register(OtherNote)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(NotRegistered, match="Registered collections: analytics_events, .*users"):
        site.get("usres")


def test_declaration_errors_are_explained():
    class Nameless(MongoModel):
        title: str

    class BadKey(MongoModel):
        collection = "bad"
        key_fields = ("nope",)

    with pytest.raises(ImproperlyDeclared, match="must set `collection`"):
        CollectionRegistry().register(Nameless)
    with pytest.raises(ImproperlyDeclared, match="'nope'"):
        CollectionRegistry().register(BadKey)


def test_key_fields_get_a_unique_index(db):
    indexes = index_models(User)
    assert indexes[0].document["unique"] is True
    assert dict(indexes[0].document["key"]) == {"email": 1}
    unique = [info for info in db.users.index_information().values() if info.get("unique")]
    assert [dict(info["key"]) for info in unique] == [{"email": 1}]
