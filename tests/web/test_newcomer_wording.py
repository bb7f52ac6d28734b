"""Web pages as a first user reads them: no server paths or command-line flags, the same words
for a dry run and a real run, and warnings before what cannot be taken back."""

from __future__ import annotations

import re

import pytest

from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from tests.feed_server import serve
from tests.web.helpers import compose_data
from tests.web.import_helpers import GOOD_AND_BAD, confirm, dry_run, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return settings.BULKADMIN_JOBS_DIR


def text_of(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_file_of_unknown_format_is_named_without_its_server_path_or_a_flag(admin_client_, jobs_dir):
    response = upload(admin_client_, "name;email\nAnn;ann@example.com\n", name="semi.txt")
    if response.status_code == 302:
        response = admin_client_.get(response["Location"])
    text = text_of(response)
    assert "Cannot tell the format of &#x27;semi.txt&#x27; from its extension or its content" in text
    assert "choose one of csv, tsv, json, ndjson, xlsx" in text
    assert str(jobs_dir) not in text and "--format" not in text


def test_a_missed_lookup_keeps_the_browse_filters_labelled_as_words(admin_client_, people):
    response = admin_client_.get("/admin/bulk/collections/users/", {"go": "nobody@example.com"})
    assert response.status_code == 404
    text = text_of(response)
    assert "No document of users has the id or email &#x27;nobody@example.com&#x27;." in text
    assert [label for _, label, _, _ in response.context["filters"]] == ["Status", "Tier", "Is active", "Is verified"]
    assert "Is active" in text and '<select name="is_active">' in response.content.decode()


def test_the_first_click_on_a_column_sorts_it_ascending_and_the_page_says_which_columns_sort(admin_client_, people):
    response = admin_client_.get("/admin/bulk/collections/users/")
    headers = {header["name"]: header for header in response.context["headers"]}
    assert headers["email"]["param"] == "email"
    assert (headers["age"]["sortable"], headers["age"]["param"]) == (False, "age")
    html = response.content.decode()
    assert '<span title="Not sortable: age has no index">age</span>' in html
    assert "only indexed fields sort (" in text_of(response)
    again = admin_client_.get("/admin/bulk/collections/users/", {"sort": "email"})
    assert {h["name"]: h for h in again.context["headers"]}["email"]["param"] == "-email"


def test_the_dry_run_summary_counts_the_duplicates_that_would_fail(admin_client_, people):
    job, _ = dry_run(admin_client_, GOOD_AND_BAD + "Ann again,ann@example.com,40\nUser 1,user1@example.com,30\n")
    assert (job.counts["rows"], job.counts["inserted"], job.counts["rejected"], job.counts["failed"]) == (7, 3, 2, 2)
    text = text_of(admin_client_.get(f"/admin/bulk/jobs/{job.pk}/"))
    assert (
        "The dry run read 7 rows: 3 would be created, 0 updated, 0 left unchanged, 2 rejected, "
        "2 would fail (duplicate keys) (listed below; they will not be imported)." in text
    )


def test_undo_of_an_insert_import_asks_to_delete_what_it_created(admin_client_, people):
    job = confirm(admin_client_, dry_run(admin_client_, GOOD_AND_BAD)[0])
    html = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/").content.decode()
    assert "return confirm('Delete the 3 documents this import created?');" in html
    assert "Restore" not in html


def test_a_queued_job_cannot_be_undone_because_it_has_not_started(admin_client_, people):
    job = Job.objects.create(kind="update", collection="users", status="queued", parameters={"filter": {}})
    text = text_of(admin_client_.get(f"/admin/bulk/jobs/{job.pk}/"))
    assert "Undo: it has not started yet." in text and "still running" not in text


def test_a_delete_with_an_empty_filter_warns_it_is_the_whole_collection(admin_client_, people):
    response = admin_client_.post("/admin/bulk/delete/", compose_data(filters=[]))
    assert response.context["state"].preview.count == 30
    text = text_of(response)
    assert "The filter is empty: this deletes every document of users, the whole collection." in text
    narrowed = admin_client_.post("/admin/bulk/delete/", compose_data(filters=[("age", "lt", "30")]))
    assert "The filter is empty" not in text_of(narrowed)


def test_a_real_run_words_a_duplicate_as_the_dry_run_does_without_the_servers_words(admin_client_, people, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("name,email,age\nAnn,ann@example.com,31\nAnn 2,ann@example.com,40\nOld,user1@example.com,30\n")
    job = Job.objects.get(pk=import_file(model="users", source=source).job_id)
    assert [(error["line"], error["message"]) for error in job.errors] == [
        (3, "duplicate key (email): already in the collection or earlier in the file"),
        (4, "duplicate key (email): already in the collection or earlier in the file"),
    ]
    text = text_of(admin_client_.get(f"/admin/bulk/jobs/{job.pk}/"))
    assert "E11000" not in text and "UNIQUE constraint" not in text


def test_a_bad_email_says_what_is_expected_not_the_regex(admin_client_, people):
    job, _ = dry_run(admin_client_, GOOD_AND_BAD)
    assert [error["message"] for error in job.errors if error["field"] == "email"] == [
        "email: should be an email address such as name@example.com"
    ]
    filtered = admin_client_.post("/admin/bulk/delete/", compose_data(filters=[("email", "eq", "nobody")]))
    text = text_of(filtered)
    assert "email: should be an email address such as name@example.com (got &#x27;nobody&#x27;)" in text
    assert "pattern" not in text.lower()


def test_a_dry_run_that_finds_bad_rows_is_not_called_failed(admin_client_, people):
    dry, _ = dry_run(admin_client_, GOOD_AND_BAD)
    assert dry.status == "partial"
    page = admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/").content.decode()
    assert '<strong id="job-status" class="status-partial">Dry run: some rows would fail</strong>' in page
    live = admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/status/").json()
    assert live["status_label"] == "Dry run: some rows would fail"
    listing = text_of(admin_client_.get("/admin/bulk/jobs/"))
    assert f"#{dry.pk} Import (dry run) users Dry run: some rows would fail 5 would create 3, would reject 2" in listing
    real = confirm(admin_client_, dry)
    assert real.status_text == "Partially failed"


def test_a_job_page_shows_its_parameters_in_words_without_internals(admin_client_, people):
    job = confirm(admin_client_, dry_run(admin_client_, GOOD_AND_BAD)[0])
    response = admin_client_.get(f"/admin/bulk/jobs/{job.pk}/")
    parameters = dict(response.context["parameters"])
    assert (parameters["Source"], parameters["Mode"], parameters["Batch size"]) == ("people.csv", "insert", "1000")
    assert (parameters["Stop on error"], parameters["Keep undo"]) == ("no", "yes")
    details = dict(response.context["details"])
    assert (details["Bytes read"], details["Undo records"], details["Rows this run"]) == ("128", "3", "5")
    html = response.content.decode()
    for internal in ("id_seed", "Id seed", "sha256", "Fingerprint", job.parameters["upload"]):
        assert internal not in html
    assert response.context["chart"] == "" and "Throughput per batch" not in html  # one batch: no one-bar chart


def test_the_composer_says_updates_in_words_and_reads_a_date_alone_as_midnight_utc(admin_client_, people):
    html = admin_client_.get("/admin/bulk/update/", {"collection": "users"}).content.decode()
    assert '<option value="$set">set to ($set)</option>' in html
    assert '<option value="$inc">increase by ($inc)</option>' in html
    assert "Dates and times are read as UTC: a date alone (2024-01-31) is midnight UTC at its start." in html
    filters, updates = [("last_login", "lt", "2024-01-31")], [("$set", "tier", "gold")]
    response = admin_client_.post("/admin/bulk/update/", compose_data(filters=filters, updates=updates))
    assert response.context["state"].errors == []
    stored = response.context["state"].preview.stored["filter"]["last_login"]["$lt"]
    assert stored.isoformat() in ("2024-01-31T00:00:00+00:00", "2024-01-31T00:00:00")


@pytest.fixture
def feed(monkeypatch):
    """The `demo_users` source reading 3 records, the second with a bad email."""
    for server in serve():
        monkeypatch.setenv("DEMO_FEED_URL", f"{server.url}/users")
        records = [{"id": n, "name": f"Partner {n}", "email": f"p{n}@partner.example"} for n in (1, 2, 3)]
        records[1]["email"] = "broken"
        server.pages("/users", [records])
        yield server


def test_a_sync_dry_run_offers_to_run_it_for_real_and_names_rejected_records_by_key(admin_client_, feed, db):
    admin_client_.post("/admin/bulk/sync/", {"source": "demo_users", "action": "dry_run"})
    dry = Job.objects.get(kind="sync", dry_run=True)
    assert [error["message"] for error in dry.errors] == [
        "id 2: email: should be an email address such as name@example.com (got 'broken')."
    ]
    page = admin_client_.get(f"/admin/bulk/jobs/{dry.pk}/").content.decode()
    assert 'id="sync-for-real-button"' in page and "Run it for real" in page
    assert "<td>record 2</td>" in page
    form = re.search(r'<form method="post" action="/admin/bulk/sync/">(.*?)</form>', page, re.DOTALL)[1]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    response = admin_client_.post("/admin/bulk/sync/", fields)
    real = Job.objects.get(kind="sync", dry_run=False)
    assert response["Location"] == f"/admin/bulk/jobs/{real.pk}/"
    assert (
        real.counts["created"],
        real.counts["rejected"],
        db.users.count_documents({"external_id": {"$ne": None}}),
    ) == (2, 1, 2)
    assert 'id="sync-for-real-button"' not in admin_client_.get(f"/admin/bulk/jobs/{real.pk}/").content.decode()
