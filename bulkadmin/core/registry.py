"""The registry of collection models, like `django.contrib.admin.site`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from bulkadmin.core.collection_admin import CollectionAdmin, check_admin
from bulkadmin.core.documents import MongoModel, check_declaration, storage_path
from bulkadmin.core.exceptions import AlreadyRegistered, NotRegistered
from bulkadmin.core.types import Document

M = TypeVar("M", bound=type[MongoModel])


class CollectionRegistry:
    """Every collection bulkadmin can work on, by collection name."""

    def __init__(self) -> None:
        self._models: dict[str, type[MongoModel]] = {}
        self._admins: dict[str, CollectionAdmin] = {}

    def register(self, model: M, admin_class: type[CollectionAdmin] | None = None) -> M:
        """Register `model` under its collection name with its admin options (default: a plain
        `CollectionAdmin`); usable as a class decorator. Registering the same model again with
        an admin class replaces its admin."""
        check_declaration(model)
        existing = self._models.get(model.collection)
        if existing is not None and existing is not model:
            raise AlreadyRegistered(
                f"Collection {model.collection!r} is already registered to {existing.__module__}.{existing.__name__}."
            )
        admin = (admin_class or CollectionAdmin)(model)
        check_admin(admin)
        self._models[model.collection] = model
        if admin_class is not None or model.collection not in self._admins:
            self._admins[model.collection] = admin
        return model

    def admin(self, name: str) -> CollectionAdmin:
        """The admin options of collection `name`; `NotRegistered` lists the valid names."""
        self.get(name)
        return self._admins[name]

    def unregister(self, model: type[MongoModel]) -> None:
        """Remove `model`; raises `NotRegistered` when it is not registered."""
        if self._models.get(model.collection) is not model:
            raise NotRegistered(model.collection, self.names())
        del self._models[model.collection]
        del self._admins[model.collection]

    def get(self, name: str) -> type[MongoModel]:
        """The model registered under `name`; `NotRegistered` lists the valid names."""
        try:
            return self._models[name]
        except KeyError:
            raise NotRegistered(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._models)

    def __iter__(self) -> Iterator[type[MongoModel]]:
        return iter(self._models[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._models


site = CollectionRegistry()
register = site.register


def admin_of(model: type[MongoModel]) -> CollectionAdmin:
    """The admin options of `model`: its registered admin, else the defaults."""
    if site._models.get(model.collection) is model:
        return site.admin(model.collection)
    return CollectionAdmin(model)


def index_models(model: type[MongoModel]) -> list[IndexModel]:
    """The pymongo index models for a collection: a unique index on the key fields, then
    the declared indexes."""
    indexes = []
    if model.key_fields:
        keys = [(storage_path(model, name), ASCENDING) for name in model.key_fields]
        indexes.append(IndexModel(keys, unique=True, name="bulkadmin_key"))
    for index in model.indexes:
        keys = [(storage_path(model, name), direction) for name, direction in index.keys]
        options: dict[str, Any] = {"unique": index.unique}
        if index.name:
            options["name"] = index.name
        if index.expire_after_seconds is not None:
            options["expireAfterSeconds"] = index.expire_after_seconds
        indexes.append(IndexModel(keys, **options))
    return indexes


def ensure_indexes(model: type[MongoModel], db: Database[Document]) -> list[str]:
    """Create the model's indexes in `db` (a no-op for those that exist); return their names."""
    indexes = index_models(model)
    return db[model.collection].create_indexes(indexes) if indexes else []
