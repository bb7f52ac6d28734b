"""A staff user without a collection's permission: its pages refuse inside the admin's layout,
naming the permission; the pages they may see list nothing of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def viewer_page(chromium, live_server, transactional_db, people):
    from django.contrib.auth.models import Permission
    from django.contrib.auth.models import User as DjangoUser

    viewer = DjangoUser.objects.create_user("viewer", password="viewer-pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_users"))
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/admin/bulk/")
    tab.fill("#id_username", "viewer")
    tab.fill("#id_password", "viewer-pw")
    tab.click("input[type=submit]")
    tab.wait_for_url("**/admin/bulk/")
    yield tab
    context.close()


def test_a_refused_page_names_the_permission_inside_the_admin_layout(viewer_page):
    page = viewer_page
    expect(page.locator("#collections")).to_contain_text("users")
    expect(page.locator("#collections")).not_to_contain_text("application_logs")
    response = page.goto("/admin/bulk/collections/application_logs/")
    assert response is not None and response.status == 403
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#denied-permission")).to_have_text("bulkadmin.view_application_logs")
    expect(page.locator(".errornote")).to_contain_text("You need the permission bulkadmin.view_application_logs")
    response = page.goto("/admin/bulk/update/?collection=users")
    assert response is not None and response.status == 403
    expect(page.locator("#denied-permission")).to_have_text("bulkadmin.change_users")
    page.click("text=Back to the bulk admin")
    page.wait_for_url("**/admin/bulk/")
