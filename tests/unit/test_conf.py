"""bulkadmin's settings: defaults when unset, overrides read at once, and a system check with its
own id for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from bulkadmin.core import conf


def check_ids() -> list[str]:
    """The ids of the problems Django's check framework reports (so the check is registered)."""
    return sorted(message.id for message in checks.run_checks() if (message.id or "").startswith("bulkadmin."))


def test_the_project_settings_pass_the_checks():
    assert check_ids() == []


def test_defaults_apply_when_a_setting_is_unset(settings, tmp_path):
    for name in ("BULKADMIN_UNDO_LIMIT", "BULKADMIN_UNDO_DAYS", "BULKADMIN_JOB_STALE_SECONDS"):
        delattr(settings, name)
    del settings.BULKADMIN_UPLOAD_MAX_BYTES, settings.BULKADMIN_JOBS_DIR
    settings.VAR_DIR = tmp_path
    assert (conf.undo_limit(), conf.undo_days(), conf.job_stale_seconds()) == (100_000, 30, 60)
    assert (conf.heartbeat_seconds(), conf.lease_seconds(), conf.auto_resume()) == (10, 60, 3)
    assert conf.storage_name() == "bulkadmin"
    assert conf.upload_max_bytes() == 200 * 1024 * 1024
    assert (conf.jobs_dir(), conf.embedded_dir()) == (tmp_path / "jobs", tmp_path)
    del settings.VAR_DIR
    settings.BASE_DIR = tmp_path / "site"
    assert conf.jobs_dir() == tmp_path / "site" / "var" / "jobs"
    assert check_ids() == []


def test_overrides_are_read_when_asked(settings, tmp_path):
    settings.BULKADMIN_UNDO_LIMIT = 7
    settings.BULKADMIN_JOBS_DIR = str(tmp_path / "elsewhere")
    assert conf.undo_limit() == 7
    assert conf.jobs_dir() == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("BULKADMIN_UNDO_LIMIT", -1, "bulkadmin.E001"),
        ("BULKADMIN_UNDO_LIMIT", 0, "bulkadmin.E001"),
        ("BULKADMIN_UNDO_LIMIT", "many", "bulkadmin.E001"),
        ("BULKADMIN_UNDO_DAYS", 0, "bulkadmin.E002"),
        ("BULKADMIN_JOB_STALE_SECONDS", 0, "bulkadmin.E003"),
        ("BULKADMIN_JOB_STALE_SECONDS", -30, "bulkadmin.E003"),
        ("BULKADMIN_UPLOAD_MAX_BYTES", 0, "bulkadmin.E004"),
        ("BULKADMIN_UPLOAD_MAX_BYTES", True, "bulkadmin.E004"),
        ("BULKADMIN_HEARTBEAT_SECONDS", 0, "bulkadmin.E010"),
        ("BULKADMIN_LEASE_SECONDS", -1, "bulkadmin.E011"),
        ("BULKADMIN_BROWSE_MARK_PAGES", 0, "bulkadmin.E013"),
        ("BULKADMIN_SYNC_SOURCES", ["partners"], "bulkadmin.E007"),
        ("BULKADMIN_SYNC_SOURCES", {"partners": {"url_env": "X"}}, "bulkadmin.E007"),
        ("BULKADMIN_SYNC_SOURCES", {"partners": "users"}, "bulkadmin.E007"),
        ("MONGODB_URI", "localhost:27017", "bulkadmin.E008"),
        ("MONGODB_DB", "", "bulkadmin.E009"),
        ("MONGODB_DB", "my.db", "bulkadmin.E009"),
    ],
)
def test_each_bad_value_gives_its_check_id(settings, name, value, check_id):
    setattr(settings, name, value)
    assert check_ids() == [check_id]


def test_a_jobs_folder_that_is_a_file_fails_its_check(settings, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    settings.BULKADMIN_JOBS_DIR = tmp_path / "taken" / "jobs"
    problems = conf.check_settings()
    assert [problem.id for problem in problems] == ["bulkadmin.E005"]
    assert f"{tmp_path / 'taken'} is not a folder" in problems[0].msg


def test_a_missing_folder_under_a_writable_one_passes(settings, tmp_path):
    settings.BULKADMIN_JOBS_DIR = tmp_path / "not" / "yet" / "made"
    assert check_ids() == []
    assert not Path(settings.BULKADMIN_JOBS_DIR).exists()  # checking creates nothing


def test_manage_py_check_fails_on_a_bad_value(settings):
    settings.BULKADMIN_UNDO_LIMIT = -5
    with pytest.raises(SystemCheckError, match=r"bulkadmin\.E001.*BULKADMIN_UNDO_LIMIT must be a positive"):
        call_command("check")
