"""An import stopped at its first bad row names the row once, in one sentence."""

from __future__ import annotations

import pytest

from bulkadmin.jobs.imports import import_file
from bulkadmin.models import Job
from project.collections import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(tmp_path, settings):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "jobs"


@pytest.mark.parametrize("mode", ["insert", "merge"])
def test_a_stopped_import_s_message_ends_the_row_s_error_with_one_full_stop(db, tmp_path, mode):
    path = tmp_path / "rows.csv"
    path.write_text("name,email,age\nA,a@example.com,1\nB,b@example.com,x\nC,c@example.com,3\n", encoding="utf-8")
    import_file(model=User, source=path, mode=mode, batch_size=2, stop_on_error=True)
    message = Job.objects.latest("pk").message
    assert message.startswith("Stopped at line 3: age: Input should be a valid integer")
    assert ".." not in message
    assert sorted(doc["name"] for doc in db.users.find()) == ["A"]
