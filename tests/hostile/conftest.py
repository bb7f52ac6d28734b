"""The web admin's fixtures (staff users with chosen permissions, logged-in clients), for the
hostile cases driven through the web."""

from tests.web.conftest import admin_client_, login, make_user  # noqa: F401 - fixtures
