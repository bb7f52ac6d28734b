"""Odd names and numbers typed or sent by a staff user: a 300-character upload name, page
numbers and document ids past 64-bit integers, and composer JSON nested thousands deep answer
with a page naming the problem (400 / 404) or work; never a 500."""

from __future__ import annotations

import pytest

from bulkadmin.models import Job
from bulkadmin.web.uploads import MAX_STORED_NAME
from tests.hostile.make_corpus import COMPOSER_DEEP, COMPOSER_FILTERS, COMPOSER_UPDATES, long_name
from tests.web.helpers import compose_data
from tests.web.import_helpers import upload

pytestmark = pytest.mark.django_db
BROWSE = "/admin/bulk/collections/users/"
HUGE = str(10**30)


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    return tmp_path / "jobs"


@pytest.fixture
def client_500s_as_pages(admin_client_):
    admin_client_.raise_request_exception = False
    return admin_client_


def test_an_upload_name_of_300_characters_is_stored_truncated(client_500s_as_pages, db, jobs_dir):
    name = long_name(300)
    response = upload(client_500s_as_pages, "name,email\nAnn,ann@example.com\n", name=name)
    assert response.status_code == 302, response.content.decode()[:1000]
    [folder] = (jobs_dir / "uploads").iterdir()
    stored = sorted(path.name for path in folder.iterdir())
    assert stored == sorted(["n" * (MAX_STORED_NAME - 4) + ".csv", "upload.json"])
    shown = client_500s_as_pages.get(response["Location"])
    assert shown.status_code == 200 and shown.context["preview"].valid_rows == 1
    assert shown.context["meta"]["name"] == name[:251] + ".csv"  # as Django keeps it (255 characters)


def test_an_upload_name_that_cannot_be_stored_leaves_no_folder(client_500s_as_pages, db, jobs_dir, monkeypatch):
    monkeypatch.setattr("bulkadmin.web.uploads.stored_name", lambda name: "x" * 300 + ".csv")
    response = upload(client_500s_as_pages, "name,email\nAnn,ann@example.com\n", name="people.csv")
    assert response.status_code == 400
    assert "The file could not be stored (File name too long)" in response.content.decode()
    assert list((jobs_dir / "uploads").iterdir()) == []


@pytest.mark.parametrize("number", [HUGE, str(2**63), "9" * 5000])
def test_a_browse_page_number_past_any_page_is_404(client_500s_as_pages, db, number):
    response = client_500s_as_pages.get(f"{BROWSE}?page={number}")
    assert response.status_code == 404 if len(number) < 4300 else response.status_code == 200  # unreadable: page 1


def test_a_job_list_page_number_past_any_page_shows_the_last_page(client_500s_as_pages, db):
    Job.objects.create(kind=Job.Kind.IMPORT, collection="users")
    response = client_500s_as_pages.get(f"/admin/bulk/jobs/?page={HUGE}")
    assert response.status_code == 200 and response.context["listing"].number == 1
    detail = client_500s_as_pages.get(f"/admin/bulk/jobs/{Job.objects.get().pk}/?errors_page={HUGE}")
    assert detail.status_code == 200
    assert client_500s_as_pages.get(f"/admin/bulk/jobs/{HUGE}/").status_code == 404


@pytest.mark.parametrize("digits", [20, 400, 5000])
def test_a_document_id_of_many_digits_is_404(client_500s_as_pages, db, digits):
    response = client_500s_as_pages.get(f"{BROWSE}documents/{'9' * digits}/")
    assert response.status_code == 404
    negative = client_500s_as_pages.get(f"{BROWSE}documents/-{'9' * digits}/")
    assert negative.status_code == 404


@pytest.mark.parametrize("page", ["cleanup/", "update/?collection=users&", "delete/?collection=users&"])
@pytest.mark.parametrize(("number", "status"), [("²", 200), ("9" * 400, 404)])
def test_a_rerun_number_that_is_no_job_number_is_not_a_500(client_500s_as_pages, db, page, number, status):
    joiner = "" if page.endswith("&") else "?"
    response = client_500s_as_pages.get(f"/admin/bulk/{page}{joiner}rerun={number}")
    assert response.status_code == status


BOXES = [("update", "filter_json"), ("update", "update_json"), ("delete", "filter_json")]


@pytest.mark.parametrize(("url", "box"), BOXES)
@pytest.mark.parametrize("text", COMPOSER_DEEP.values(), ids=COMPOSER_DEEP.keys())
def test_composer_json_nested_thousands_deep_is_a_form_error_naming_the_limit(client_500s_as_pages, db, url, box, text):
    url = f"/admin/bulk/{url}/"
    fields = {"filter_json": "{}", "update_json": '{"$set": {"age": 1}}', box: text}
    response = client_500s_as_pages.post(url, compose_data(**fields))
    assert response.status_code == 400
    what = box.removesuffix("_json")
    expected = f"The {what} JSON nests objects or arrays deeper than 100 levels (the limit, MongoDB's)."
    assert expected in response.context["state"].errors
    assert not Job.objects.exists()


HOSTILE_JSON = [
    *(("filter_json", text, said) for text, said in COMPOSER_FILTERS.items()),
    *(("update_json", text, said) for text, said in COMPOSER_UPDATES.items()),
]


@pytest.mark.parametrize(("box", "text", "said"), HOSTILE_JSON)
def test_hostile_composer_json_is_a_form_error_naming_the_problem(client_500s_as_pages, db, box, text, said):
    fields = {"filter_json": "{}", "update_json": '{"$set": {"age": 1}}', box: text}
    response = client_500s_as_pages.post("/admin/bulk/update/", compose_data(**fields, action="confirm"))
    assert response.status_code == 400
    errors = response.context["state"].errors
    assert [error for error in errors if said in error], errors
    assert not Job.objects.exists()
