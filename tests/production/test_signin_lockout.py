"""Failed staff sign-ins are counted per user name and client address (django-axes); at the limit
that pair is locked out, even with the right password, until the cool-off ends or an operator
resets it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/bulk/"
WRONG = "Please enter the correct username and password"
LOCKED = "Account locked: too many failed sign-ins for “ops”"


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("ops", password="right-pw", is_staff=True, is_superuser=True)


def sign_in(client: Client, password: str, **extra: str):
    return client.post(LOGIN, {"username": "ops", "password": password, "next": "/admin/bulk/"}, **extra)


def test_the_limit_of_wrong_passwords_locks_the_user_out_even_with_the_right_one(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        response = sign_in(client, "wrong")
        assert response.status_code == 200 and WRONG in response.content.decode()
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert "Try again in 0:15:00" in locked.content.decode()

    right = sign_in(client, "right-pw")
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert client.get("/admin/bulk/").status_code == 302  # still not signed in


def test_the_lockout_is_per_user_name_and_address_and_an_operator_can_lift_it(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    User.objects.create_user("other", password="other-pw", is_staff=True)
    for _ in range(2):
        sign_in(client, "wrong")
    assert sign_in(client, "right-pw").status_code == 429
    elsewhere = Client()
    assert sign_in(elsewhere, "right-pw", REMOTE_ADDR="10.0.0.9").status_code == 302
    assert Client().post(LOGIN, {"username": "other", "password": "other-pw"}).status_code == 302

    call_command("axes_reset_username", "ops", verbosity=0)
    assert sign_in(client, "right-pw").status_code == 302
    assert client.get("/admin/bulk/").status_code == 200


def test_a_successful_sign_in_resets_the_count(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        sign_in(client, "wrong")
    assert sign_in(client, "right-pw").status_code == 302
    client.logout()
    for _ in range(2):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "right-pw").status_code == 302


def test_behind_trusted_proxies_each_forwarded_client_is_counted_apart(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.BULKADMIN_TRUSTED_PROXIES = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 203.0.113.5"}  # the first entry is the client's own claim
    for _ in range(2):
        sign_in(client, "wrong", **attacker)
    assert sign_in(client, "right-pw", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5").status_code == 429
    assert sign_in(Client(), "right-pw", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302
