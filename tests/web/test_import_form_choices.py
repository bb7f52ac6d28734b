"""The Import page's upload form: no collection is chosen for the user, and dates written day
first (or any way the command line's --date-format reads) can be imported from the web too."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkadmin.models import Job
from tests.web.import_helpers import IMPORT_URL, confirm, dry_run, preview_data, upload

pytestmark = pytest.mark.django_db

DAY_FIRST = "name,email,last_login\nAnn,ann@example.com,31/01/2026\nBob,bob@example.com,02/03/2026\n"


def test_no_collection_is_chosen_unless_the_page_was_asked_for_one(admin_client_):
    page = admin_client_.get(IMPORT_URL).content.decode()
    assert '<option value="" selected>Choose a collection</option>' in page
    assert '<option value="analytics_events" selected>' not in page
    asked = admin_client_.get(IMPORT_URL, {"collection": "users"}).content.decode()
    assert '<option value="users" selected>users</option>' in asked
    assert '<option value="" selected>Choose a collection' not in asked


def test_an_upload_without_a_collection_is_refused_asking_to_choose_one(admin_client_, db):
    response = upload(admin_client_, DAY_FIRST, collection="")
    assert response.status_code == 400
    assert response.context["form"].errors["collection"] == ["Choose the collection to import into."]
    assert not Job.objects.exists()


def test_the_date_format_reads_day_first_dates_in_the_preview_dry_run_and_import(admin_client_, db):
    dry, preview_url = dry_run(admin_client_, DAY_FIRST, date_format="%d/%m/%Y")
    assert dry.parameters["date_format"] == "%d/%m/%Y"
    assert (dry.counts["inserted"], dry.counts["rejected"]) == (2, 0)
    preview = admin_client_.get(preview_url)
    assert preview.context["form"]["date_format"].value() == "%d/%m/%Y"
    assert all(row.ok for row in preview.context["preview"].rows)
    confirm(admin_client_, dry)
    stored = {doc["email"]: doc["last_login"] for doc in db.users.find()}
    assert stored == {
        "ann@example.com": dt.datetime(2026, 1, 31, tzinfo=dt.UTC),
        "bob@example.com": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    }


def test_without_a_date_format_day_first_dates_are_rejected(admin_client_, db):
    dry, _ = dry_run(admin_client_, DAY_FIRST)
    assert (dry.counts["inserted"], dry.counts["rejected"]) == (0, 2)


def test_a_date_format_without_codes_is_refused(admin_client_, db):
    response = upload(admin_client_, DAY_FIRST, date_format="dd/mm/yyyy")
    assert response.status_code == 400
    assert "codes such as %d (day)" in response.context["form"].errors["date_format"][0]
    uploaded = upload(admin_client_, DAY_FIRST)
    shown = admin_client_.get(uploaded["Location"])
    refused = admin_client_.post(uploaded["Location"], preview_data(shown, date_format="dd/mm/yyyy"))
    assert refused.status_code == 400
