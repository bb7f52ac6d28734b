"""The Import page reads Extended JSON when asked: the upload's and the preview's "Extended JSON"
choice, offered for JSON and NDJSON only, carried to the dry run and the confirmed import."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from tests.web.import_helpers import confirm, dry_run, preview_data, upload

pytestmark = pytest.mark.django_db

ANN, BOB = ObjectId("65f0c0ffee0123456789abc1"), ObjectId("65f0c0ffee0123456789abc2")
EXPORTED = (
    '{"_id": {"$oid": "65f0c0ffee0123456789abc1"}, "name": "Ann", "email": "ann@example.com", '
    '"age": {"$numberInt": "31"}, "created_at": {"$date": {"$numberLong": "1709251199999"}}}\n'
    '{"_id": {"$oid": "65f0c0ffee0123456789abc2"}, "name": "Bob", "email": "bob@example.com", '
    '"created_at": {"$date": "not a date"}}\n'
)


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


def test_extended_json_is_previewed_dry_run_and_imported_with_its_ids_and_dates(admin_client_, db):
    preview_url = upload(admin_client_, EXPORTED, name="users.ndjson", extended_json="on")["Location"]
    preview = admin_client_.get(preview_url).context["preview"]
    assert [row.ok for row in preview.rows] == [True, False]
    assert preview.rows[1].messages[0].startswith("created_at: not valid Extended JSON (time data 'not a date'")

    dry, _ = dry_run(admin_client_, EXPORTED, name="users.ndjson", extended_json="on")
    assert dry.parameters["extended_json"] is True
    assert (dry.counts["inserted"], dry.counts["rejected"]) == (1, 1)
    job = confirm(admin_client_, dry)

    assert (job.counts["inserted"], job.counts["rejected"]) == (1, 1)
    [stored] = db.users.find()
    assert (stored["_id"], stored["age"]) == (ANN, 31)
    assert stored["created_at"] == dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)
    assert db.users.count_documents({"_id": BOB}) == 0


def test_without_the_choice_extended_json_values_are_the_models_rejections(admin_client_, db):
    preview_url = upload(admin_client_, EXPORTED, name="users.ndjson")["Location"]
    shown = admin_client_.get(preview_url)
    assert [row.ok for row in shown.context["preview"].rows] == [False, False]

    changed = admin_client_.post(preview_url, preview_data(shown, extended_json="on"))
    assert [row.ok for row in changed.context["preview"].rows] == [True, False]


def test_the_choice_is_offered_for_json_files_only(admin_client_, db):
    csv_page = admin_client_.get(upload(admin_client_, "name,email\nAnn,ann@example.com\n")["Location"])
    assert "extended_json" not in csv_page.context["form"].fields
    json_page = admin_client_.get(upload(admin_client_, "[]", name="users.json")["Location"])
    assert "extended_json" in json_page.context["form"].fields


def test_the_choice_on_a_csv_upload_is_named_as_not_applying(admin_client_, db):
    page = admin_client_.get(upload(admin_client_, "name,email\nAnn,ann@example.com\n", extended_json="on")["Location"])
    assert page.context["preview"].problems == ("The extended json option does not apply to CSV files.",)
