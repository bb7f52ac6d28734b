"""Every hostile file of the corpus through `manage.py import_csv`, in insert and merge mode:
no traceback, every rejected row named with its field, nothing stored that the model refuses,
and the valid rows around each bad one imported."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pydantic import ValidationError

from bulkadmin.models import Job, storable_text
from project.collections import User
from tests.hostile.make_corpus import corpus, write_corpus

pytestmark = pytest.mark.django_db

CORPUS = corpus()


def test_the_corpus_has_every_kind_in_every_format():
    assert len(CORPUS) >= 60
    assert {item.name.rsplit(".", 1)[1] for item in CORPUS} == {"csv", "tsv", "json", "ndjson", "xlsx"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return {item.name: path for item, path in write_corpus(tmp_path_factory.mktemp("hostile"))}


@pytest.mark.parametrize("mode", ["insert", "merge", "dry-run"])
@pytest.mark.parametrize("item", CORPUS, ids=lambda item: item.name)
def test_hostile_file(item, mode, files, db, settings, tmp_path):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"
    out, err = io.StringIO(), io.StringIO()
    arguments = ["users", str(files[item.name]), "--batch-size", "3"]
    arguments += ["--dry-run"] if mode == "dry-run" else ["--mode", mode]
    failure = None
    try:
        call_command("import_csv", *arguments, stdout=out, stderr=err)
    except CommandError as error:
        failure = str(error)
    job = Job.objects.get()
    expected = {"imported": item.imported, "rejected": item.rejected, **item.merge} if mode == "merge" else None
    imported, rejected = (expected["imported"], expected["rejected"]) if expected else (item.imported, item.rejected)
    stored = list(db.users.find())
    for document in stored:  # nothing stored that the model refuses
        try:
            User.from_document(document)
        except ValidationError as error:
            pytest.fail(f"stored document refused by the model: {document!r:.300}: {error}")
    if item.file_error is not None:
        assert failure is not None and re.search(item.file_error, failure), failure
        assert job.status == Job.Status.FAILED or job.counts.get("rejected", 0) == job.rows_done
        assert not [d for d in stored if str(d.get("name", "")).startswith("V")] or item.imported
    else:
        got = [((e["line"] and f"line {e['line']}") or f"item {e['index'] + 1}", e["field"]) for e in job.errors]
        assert [where for where, _ in got] == [where for where, _ in rejected], (failure, job.errors)
        for (_, field), (_, named) in zip(got, rejected, strict=True):  # the field, or inside it
            expected_field = named and storable_text(named)  # as a job row stores text (no NUL)
            assert field == expected_field or (expected_field and field.startswith(expected_field + ".")), job.errors
        assert (failure is not None) == bool(rejected), failure
        if failure:
            assert re.match(r"^\d+ row\(s\) rejected", failure), failure
    if mode == "dry-run":
        assert stored == []
        assert job.counts.get("inserted", 0) == imported, (job.counts, job.errors, failure)
        return
    assert len(stored) == imported, (stored, job.counts, job.errors, failure)
    assert job.counts.get("inserted", 0) == len(stored)
    assert job.rows_done == job.counts.get("inserted", 0) + job.counts.get("rejected", 0) + job.counts.get("failed", 0)
