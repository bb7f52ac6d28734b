"""Fixtures for the web admin: staff users with chosen permissions, logged-in clients, data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from bulkadmin.bulk import bulk_insert
from project.collections import User as AppUser
from tests.factories import users


@pytest.fixture
def make_user() -> Callable[..., User]:
    """A user: staff by default, with the bulkadmin permissions named (`view_users`, `change_users`, ...)."""

    def make(name: str = "staff", *permissions: str, staff: bool = True, superuser: bool = False) -> User:
        user = User.objects.create_user(name, password="pw", is_staff=staff, is_superuser=superuser)
        for codename in permissions:
            user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="bulkadmin"))
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def login(client: Client, make_user) -> Callable[..., Client]:
    """A client logged in as a new user with the given permissions."""

    def log_in(*permissions: str, superuser: bool = False, name: str = "staff") -> Client:
        client.force_login(make_user(name, *permissions, superuser=superuser))
        return client

    return log_in


@pytest.fixture
def admin_client_(login) -> Client:
    return login(superuser=True, name="root")


@pytest.fixture
def people(db):
    """30 users aged 20..49 in MongoDB."""
    bulk_insert(AppUser, users(30), db=db)
    return db.users
