"""bulkadmin's settings table: docs/settings.md shows it as the code declares it, every setting but the
sync sources is read from the environment as its type, and every setting has a check with its id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from bulkadmin.core import conf
from bulkadmin.core.settings_table import documented_table, replace_documented_table

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_DOC = ROOT / "docs" / "settings.md"

# Every setting read from the environment: the text set, and the value its accessor then gives.
ENVIRONMENT = {
    "MONGODB_URI": ("mongodb://db.example.com:27017/", "mongodb://db.example.com:27017/"),
    "MONGODB_DB": ("crm", "crm"),
    "BULKADMIN_ALLOW_EMBEDDED": ("yes", True),
    "BULKADMIN_EMBEDDED_DIR": ("/srv/bulkadmin/mongo", "/srv/bulkadmin/mongo"),
    "BULKADMIN_JOBS_DIR": ("/srv/bulkadmin/jobs", "/srv/bulkadmin/jobs"),
    "BULKADMIN_STORAGE": ("default", "default"),
    "BULKADMIN_UPLOAD_MAX_BYTES": ("1000", 1000),
    "BULKADMIN_UPLOAD_MAX_AGE_HOURS": ("1.5", 1.5),
    "BULKADMIN_UPLOAD_QUOTA_BYTES": ("5000", 5000),
    "BULKADMIN_UNDO_LIMIT": ("7", 7),
    "BULKADMIN_UNDO_DAYS": ("2", 2),
    "BULKADMIN_JOB_STALE_SECONDS": ("90", 90),
    "BULKADMIN_HEARTBEAT_SECONDS": ("0.5", 0.5),
    "BULKADMIN_LEASE_SECONDS": ("45", 45.0),
    "BULKADMIN_AUTO_RESUME": ("0", 0),
    "BULKADMIN_SYNC_REQUEST_DEADLINE": ("12.5", 12.5),
    "BULKADMIN_SYNC_RUN_DEADLINE": ("600", 600.0),
    "BULKADMIN_BROWSE_PAGING": ("keyset", "keyset"),
    "BULKADMIN_BROWSE_MARK_PAGES": ("4", 4),
    "BULKADMIN_USER_READ_MAX_TIME_MS": ("750", 750),
    "BULKADMIN_INLINE_COUNT_LIMIT": ("0", 0),
    "BULKADMIN_HEALTH_TIMEOUT": ("0.25", 0.25),
    "BULKADMIN_IMPORT_MAX_COLUMNS": ("100", 100),
    "BULKADMIN_IMPORT_MAX_CELL_BYTES": ("2048", 2048),
    "BULKADMIN_XLSX_MAX_PART_BYTES": ("4096", 4096),
    "BULKADMIN_XLSX_MAX_RATIO": ("20", 20.0),
    "BULKADMIN_XLSX_MAX_ENTRIES": ("50", 50),
    "BULKADMIN_SCHEDULE_CHECK_SECONDS": ("5", 5.0),
    "BULKADMIN_SCHEDULE_LATE_SECONDS": ("120", 120.0),
    "BULKADMIN_SCHEDULE_CLOCK": ("django.utils.timezone.now", "django.utils.timezone.now"),
    "BULKADMIN_SITE_URL": ("https://bulk.example.com", "https://bulk.example.com"),
    "BULKADMIN_WEBHOOK_TIMEOUT": ("3", 3.0),
    "BULKADMIN_WEBHOOK_RETRIES": ("1", 1),
}
# The accessor of each setting (callers use these names).
ACCESSORS = {
    "MONGODB_URI": "mongodb_uri",
    "MONGODB_DB": "mongodb_db",
    "BULKADMIN_ALLOW_EMBEDDED": "allow_embedded",
    "BULKADMIN_EMBEDDED_DIR": "embedded_dir",
    "BULKADMIN_JOBS_DIR": "jobs_dir",
    "BULKADMIN_STORAGE": "storage_name",
    "BULKADMIN_UPLOAD_MAX_BYTES": "upload_max_bytes",
    "BULKADMIN_UPLOAD_MAX_AGE_HOURS": "upload_max_age_hours",
    "BULKADMIN_UPLOAD_QUOTA_BYTES": "upload_quota_bytes",
    "BULKADMIN_UNDO_LIMIT": "undo_limit",
    "BULKADMIN_UNDO_DAYS": "undo_days",
    "BULKADMIN_JOB_STALE_SECONDS": "job_stale_seconds",
    "BULKADMIN_HEARTBEAT_SECONDS": "heartbeat_seconds",
    "BULKADMIN_LEASE_SECONDS": "lease_seconds",
    "BULKADMIN_AUTO_RESUME": "auto_resume",
    "BULKADMIN_SYNC_SOURCES": "sync_sources",
    "BULKADMIN_SYNC_REQUEST_DEADLINE": "sync_request_deadline",
    "BULKADMIN_SYNC_RUN_DEADLINE": "sync_run_deadline",
    "BULKADMIN_BROWSE_PAGING": "browse_paging",
    "BULKADMIN_BROWSE_MARK_PAGES": "browse_mark_pages",
    "BULKADMIN_USER_READ_MAX_TIME_MS": "user_read_max_time_ms",
    "BULKADMIN_INLINE_COUNT_LIMIT": "inline_count_limit",
    "BULKADMIN_HEALTH_TIMEOUT": "health_timeout",
    "BULKADMIN_IMPORT_MAX_COLUMNS": "import_max_columns",
    "BULKADMIN_IMPORT_MAX_CELL_BYTES": "import_max_cell_bytes",
    "BULKADMIN_XLSX_MAX_PART_BYTES": "xlsx_max_part_bytes",
    "BULKADMIN_XLSX_MAX_RATIO": "xlsx_max_ratio",
    "BULKADMIN_XLSX_MAX_ENTRIES": "xlsx_max_entries",
    "BULKADMIN_SCHEDULE_CHECK_SECONDS": "schedule_check_seconds",
    "BULKADMIN_SCHEDULE_LATE_SECONDS": "schedule_late_seconds",
    "BULKADMIN_SCHEDULE_CLOCK": "schedule_clock",
    "BULKADMIN_SITE_URL": "site_url",
    "BULKADMIN_WEBHOOK_TIMEOUT": "webhook_timeout",
    "BULKADMIN_WEBHOOK_RETRIES": "webhook_retries",
}
# A value of each setting that its check refuses, with the check's id.
BAD_VALUES = {
    "MONGODB_URI": ("localhost:27017", "bulkadmin.E008"),
    "MONGODB_DB": ("my.db", "bulkadmin.E009"),
    "BULKADMIN_ALLOW_EMBEDDED": ("true", "bulkadmin.E014"),
    "BULKADMIN_EMBEDDED_DIR": (5, "bulkadmin.E015"),
    "BULKADMIN_JOBS_DIR": (5, "bulkadmin.E005"),
    "BULKADMIN_STORAGE": ("s3", "bulkadmin.E016"),
    "BULKADMIN_UPLOAD_MAX_BYTES": (0, "bulkadmin.E004"),
    "BULKADMIN_UPLOAD_MAX_AGE_HOURS": (-1, "bulkadmin.E017"),
    "BULKADMIN_UPLOAD_QUOTA_BYTES": (1.5, "bulkadmin.E012"),
    "BULKADMIN_UNDO_LIMIT": ("many", "bulkadmin.E001"),
    "BULKADMIN_UNDO_DAYS": (0, "bulkadmin.E002"),
    "BULKADMIN_JOB_STALE_SECONDS": (-30, "bulkadmin.E003"),
    "BULKADMIN_HEARTBEAT_SECONDS": (0, "bulkadmin.E010"),
    "BULKADMIN_LEASE_SECONDS": (float("inf"), "bulkadmin.E011"),
    "BULKADMIN_AUTO_RESUME": (-1, "bulkadmin.E018"),
    "BULKADMIN_SYNC_SOURCES": ({"partners": "users"}, "bulkadmin.E007"),
    "BULKADMIN_SYNC_REQUEST_DEADLINE": ("30", "bulkadmin.E019"),
    "BULKADMIN_SYNC_RUN_DEADLINE": (0, "bulkadmin.E020"),
    "BULKADMIN_BROWSE_PAGING": ("keyst", "bulkadmin.E021"),
    "BULKADMIN_BROWSE_MARK_PAGES": (True, "bulkadmin.E013"),
    "BULKADMIN_USER_READ_MAX_TIME_MS": (0, "bulkadmin.E022"),
    "BULKADMIN_INLINE_COUNT_LIMIT": (-5, "bulkadmin.E023"),
    "BULKADMIN_HEALTH_TIMEOUT": (float("nan"), "bulkadmin.E024"),
    "BULKADMIN_IMPORT_MAX_COLUMNS": (0, "bulkadmin.E025"),
    "BULKADMIN_IMPORT_MAX_CELL_BYTES": (1.5, "bulkadmin.E026"),
    "BULKADMIN_XLSX_MAX_PART_BYTES": (-1, "bulkadmin.E027"),
    "BULKADMIN_XLSX_MAX_RATIO": (0, "bulkadmin.E028"),
    "BULKADMIN_XLSX_MAX_ENTRIES": ("many", "bulkadmin.E029"),
    "BULKADMIN_SCHEDULE_CHECK_SECONDS": (0, "bulkadmin.E030"),
    "BULKADMIN_SCHEDULE_LATE_SECONDS": (-1, "bulkadmin.E031"),
    "BULKADMIN_SCHEDULE_CLOCK": ("no.such.clock", "bulkadmin.E032"),
    "BULKADMIN_SITE_URL": ("bulk.example.com", "bulkadmin.E033"),
    "BULKADMIN_WEBHOOK_TIMEOUT": (0, "bulkadmin.E034"),
    "BULKADMIN_WEBHOOK_RETRIES": (-1, "bulkadmin.E035"),
}


def check_ids() -> list[str]:
    return sorted(message.id for message in checks.run_checks() if (message.id or "").startswith("bulkadmin."))


def documented_rows() -> list[list[str]]:
    """The cells of each row of docs/settings.md's settings table (header and rule left out)."""
    lines = documented_table(SETTINGS_DOC.read_text(encoding="utf-8")).splitlines()[2:]
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines]


def test_the_settings_page_shows_the_table_the_code_prints():
    assert documented_table(SETTINGS_DOC.read_text(encoding="utf-8")) == conf.SETTINGS.markdown(), (
        "docs/settings.md's settings table differs from bulkadmin/core/conf.py: run "
        "`python manage.py settings_table --docs`"
    )


def test_the_settings_page_names_each_setting_with_its_environment_and_default():
    rows = {row[0].strip("`"): (row[1], row[2]) for row in documented_rows()}
    assert list(rows) == list(ACCESSORS)
    assert [name for name, (from_env, _) in rows.items() if from_env == "yes"] == list(ENVIRONMENT)
    assert {name: default for name, (_, default) in rows.items()} == {
        "MONGODB_URI": "empty: the embedded server",
        "MONGODB_DB": "`bulkadmin`",
        "BULKADMIN_ALLOW_EMBEDDED": "`false`",
        "BULKADMIN_EMBEDDED_DIR": "`var`",
        "BULKADMIN_JOBS_DIR": "`var/jobs`",
        "BULKADMIN_STORAGE": "`bulkadmin`",
        "BULKADMIN_UPLOAD_MAX_BYTES": "`209715200` (200 MiB)",
        "BULKADMIN_UPLOAD_MAX_AGE_HOURS": "`24`",
        "BULKADMIN_UPLOAD_QUOTA_BYTES": "`1073741824` (1 GiB)",
        "BULKADMIN_UNDO_LIMIT": "`100000`",
        "BULKADMIN_UNDO_DAYS": "`30`",
        "BULKADMIN_JOB_STALE_SECONDS": "`60`",
        "BULKADMIN_HEARTBEAT_SECONDS": "`10`",
        "BULKADMIN_LEASE_SECONDS": "`60`",
        "BULKADMIN_AUTO_RESUME": "`3`",
        "BULKADMIN_SYNC_SOURCES": "none",
        "BULKADMIN_SYNC_REQUEST_DEADLINE": "`30`",
        "BULKADMIN_SYNC_RUN_DEADLINE": "`3600`",
        "BULKADMIN_BROWSE_PAGING": "`auto`",
        "BULKADMIN_BROWSE_MARK_PAGES": "`10`",
        "BULKADMIN_USER_READ_MAX_TIME_MS": "`2000`",
        "BULKADMIN_INLINE_COUNT_LIMIT": "`5000`",
        "BULKADMIN_HEALTH_TIMEOUT": "`2`",
        "BULKADMIN_IMPORT_MAX_COLUMNS": "`16384`",
        "BULKADMIN_IMPORT_MAX_CELL_BYTES": "`16777216` (16 MiB, MongoDB's document limit)",
        "BULKADMIN_XLSX_MAX_PART_BYTES": "`1073741824` (1 GiB)",
        "BULKADMIN_XLSX_MAX_RATIO": "`100`",
        "BULKADMIN_XLSX_MAX_ENTRIES": "`10000`",
        "BULKADMIN_SCHEDULE_CHECK_SECONDS": "`10`",
        "BULKADMIN_SCHEDULE_LATE_SECONDS": "`300`",
        "BULKADMIN_SCHEDULE_CLOCK": "`django.utils.timezone.now`",
        "BULKADMIN_SITE_URL": "empty: links are paths",
        "BULKADMIN_WEBHOOK_TIMEOUT": "`10`",
        "BULKADMIN_WEBHOOK_RETRIES": "`2`",
    }
    assert rows["BULKADMIN_SYNC_SOURCES"][0] == "no: a Python structure in Django's settings"


def test_every_setting_has_an_accessor_that_gives_its_default(settings, tmp_path):
    for name in ACCESSORS:
        delattr(settings, name)
    settings.VAR_DIR = tmp_path
    values = {name: getattr(conf, accessor)() for name, accessor in ACCESSORS.items()}
    assert values == {
        "MONGODB_URI": "",
        "MONGODB_DB": "bulkadmin",
        "BULKADMIN_ALLOW_EMBEDDED": False,
        "BULKADMIN_EMBEDDED_DIR": tmp_path,
        "BULKADMIN_JOBS_DIR": tmp_path / "jobs",
        "BULKADMIN_STORAGE": "bulkadmin",
        "BULKADMIN_UPLOAD_MAX_BYTES": 209_715_200,
        "BULKADMIN_UPLOAD_MAX_AGE_HOURS": 24.0,
        "BULKADMIN_UPLOAD_QUOTA_BYTES": 1_073_741_824,
        "BULKADMIN_UNDO_LIMIT": 100_000,
        "BULKADMIN_UNDO_DAYS": 30,
        "BULKADMIN_JOB_STALE_SECONDS": 60,
        "BULKADMIN_HEARTBEAT_SECONDS": 10.0,
        "BULKADMIN_LEASE_SECONDS": 60.0,
        "BULKADMIN_AUTO_RESUME": 3,
        "BULKADMIN_SYNC_SOURCES": {},
        "BULKADMIN_SYNC_REQUEST_DEADLINE": 30.0,
        "BULKADMIN_SYNC_RUN_DEADLINE": 3600.0,
        "BULKADMIN_BROWSE_PAGING": "auto",
        "BULKADMIN_BROWSE_MARK_PAGES": 10,
        "BULKADMIN_USER_READ_MAX_TIME_MS": 2000,
        "BULKADMIN_INLINE_COUNT_LIMIT": 5000,
        "BULKADMIN_HEALTH_TIMEOUT": 2.0,
        "BULKADMIN_IMPORT_MAX_COLUMNS": 16_384,
        "BULKADMIN_IMPORT_MAX_CELL_BYTES": 16 * 1024 * 1024,
        "BULKADMIN_XLSX_MAX_PART_BYTES": 1024 * 1024 * 1024,
        "BULKADMIN_XLSX_MAX_RATIO": 100.0,
        "BULKADMIN_XLSX_MAX_ENTRIES": 10_000,
        "BULKADMIN_SCHEDULE_CHECK_SECONDS": 10.0,
        "BULKADMIN_SCHEDULE_LATE_SECONDS": 300.0,
        "BULKADMIN_SCHEDULE_CLOCK": "django.utils.timezone.now",
        "BULKADMIN_SITE_URL": "",
        "BULKADMIN_WEBHOOK_TIMEOUT": 10.0,
        "BULKADMIN_WEBHOOK_RETRIES": 2,
    }
    assert check_ids() == []


def test_every_variable_is_read_as_its_settings_type():
    values = conf.SETTINGS.read_environment({name: text for name, (text, _) in ENVIRONMENT.items()})
    assert values == {
        "MONGODB_URI": "mongodb://db.example.com:27017/",
        "MONGODB_DB": "crm",
        "BULKADMIN_ALLOW_EMBEDDED": True,
        "BULKADMIN_EMBEDDED_DIR": "/srv/bulkadmin/mongo",
        "BULKADMIN_JOBS_DIR": "/srv/bulkadmin/jobs",
        "BULKADMIN_STORAGE": "default",
        "BULKADMIN_UPLOAD_MAX_BYTES": 1000,
        "BULKADMIN_UPLOAD_MAX_AGE_HOURS": 1.5,
        "BULKADMIN_UPLOAD_QUOTA_BYTES": 5000,
        "BULKADMIN_UNDO_LIMIT": 7,
        "BULKADMIN_UNDO_DAYS": 2,
        "BULKADMIN_JOB_STALE_SECONDS": 90,
        "BULKADMIN_HEARTBEAT_SECONDS": 0.5,
        "BULKADMIN_LEASE_SECONDS": 45.0,
        "BULKADMIN_AUTO_RESUME": 0,
        "BULKADMIN_SYNC_REQUEST_DEADLINE": 12.5,
        "BULKADMIN_SYNC_RUN_DEADLINE": 600.0,
        "BULKADMIN_BROWSE_PAGING": "keyset",
        "BULKADMIN_BROWSE_MARK_PAGES": 4,
        "BULKADMIN_USER_READ_MAX_TIME_MS": 750,
        "BULKADMIN_INLINE_COUNT_LIMIT": 0,
        "BULKADMIN_HEALTH_TIMEOUT": 0.25,
        "BULKADMIN_IMPORT_MAX_COLUMNS": 100,
        "BULKADMIN_IMPORT_MAX_CELL_BYTES": 2048,
        "BULKADMIN_XLSX_MAX_PART_BYTES": 4096,
        "BULKADMIN_XLSX_MAX_RATIO": 20.0,
        "BULKADMIN_XLSX_MAX_ENTRIES": 50,
        "BULKADMIN_SCHEDULE_CHECK_SECONDS": 5.0,
        "BULKADMIN_SCHEDULE_LATE_SECONDS": 120.0,
        "BULKADMIN_SCHEDULE_CLOCK": "django.utils.timezone.now",
        "BULKADMIN_SITE_URL": "https://bulk.example.com",
        "BULKADMIN_WEBHOOK_TIMEOUT": 3.0,
        "BULKADMIN_WEBHOOK_RETRIES": 1,
    }
    assert [type(value) for value in values.values()] == [type(value) for _, value in ENVIRONMENT.values()]


def test_empty_and_unrelated_variables_are_left_to_the_defaults():
    environ = {"BULKADMIN_UNDO_LIMIT": "", "MONGODB_URI": "", "BULKADMIN_SYNC_SOURCES": "{}", "UNDO_LIMIT": "5"}
    assert conf.SETTINGS.read_environment(environ) == {}


@pytest.mark.parametrize(("text", "value"), [("true", True), ("On", True), ("1", True), ("no", False), ("0", False)])
def test_true_or_false_variables_take_the_usual_words(text, value):
    assert conf.SETTINGS.read_environment({"BULKADMIN_ALLOW_EMBEDDED": text}) == {"BULKADMIN_ALLOW_EMBEDDED": value}


def test_variables_of_the_wrong_type_are_refused_all_at_once_naming_each():
    environ = {"BULKADMIN_UNDO_LIMIT": "many", "BULKADMIN_HEALTH_TIMEOUT": "2s", "BULKADMIN_ALLOW_EMBEDDED": "perhaps"}
    with pytest.raises(ImproperlyConfigured) as refused:
        conf.SETTINGS.read_environment(environ)
    assert str(refused.value) == (
        "The environment variable BULKADMIN_ALLOW_EMBEDDED must be true or false (or yes/no, on/off, 1/0), "
        "not 'perhaps' (bulkadmin.E014). "
        "The environment variable BULKADMIN_UNDO_LIMIT must be a whole number, not 'many' (bulkadmin.E001). "
        "The environment variable BULKADMIN_HEALTH_TIMEOUT must be a number, not '2s' (bulkadmin.E024)."
    )


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_every_setting_has_a_check_with_its_own_id(settings, name):
    value, check_id = BAD_VALUES[name]
    setattr(settings, name, value)
    assert check_ids() == [check_id]
    assert conf.SETTINGS[name].check_id == check_id


def test_every_setting_has_a_bad_value_tested():
    assert sorted(BAD_VALUES) == sorted(setting.name for setting in conf.SETTINGS)
    assert sorted(ACCESSORS) == sorted(BAD_VALUES)


def test_a_browse_paging_typo_is_an_error_naming_the_allowed_values(settings):
    settings.BULKADMIN_BROWSE_PAGING = "keyst"
    [problem] = conf.check_settings()
    assert (problem.id, problem.msg) == (
        "bulkadmin.E021",
        "BULKADMIN_BROWSE_PAGING must be one of auto, skip, keyset, not 'keyst'.",
    )


def test_an_accessor_refuses_a_bad_value_with_the_checks_message(settings):
    settings.BULKADMIN_BROWSE_PAGING = "Skip"
    with pytest.raises(ImproperlyConfigured) as refused:
        conf.browse_paging()
    assert str(refused.value) == (
        "BULKADMIN_BROWSE_PAGING must be one of auto, skip, keyset, not 'Skip' (bulkadmin.E021)."
    )


def test_a_bad_mongodb_uri_is_refused_without_quoting_it(settings):
    settings.MONGODB_URI = "db.example.com:27017/?password=s3cret"
    [problem] = conf.check_settings()
    assert problem.msg == "MONGODB_URI must be empty or start with mongodb:// or mongodb+srv://."


def test_a_bad_sync_source_is_named(settings):
    settings.BULKADMIN_SYNC_SOURCES = {"partners": {"collection": "users"}, "crm": {"url_env": "CRM_URL"}}
    [problem] = conf.check_settings()
    assert (problem.id, problem.msg) == (
        "bulkadmin.E007",
        "BULKADMIN_SYNC_SOURCES['crm'] must be a dict with a 'collection' entry.",
    )


def test_the_storage_may_name_any_entry_of_storages(settings):
    settings.BULKADMIN_STORAGE = "default"
    assert check_ids() == []
    settings.BULKADMIN_STORAGE = "s3"
    assert [problem.msg for problem in conf.check_settings()] == [
        "BULKADMIN_STORAGE must be bulkadmin or the name of an entry of Django's STORAGES, not 's3'."
    ]


def test_the_embedded_servers_folder_is_checked_only_when_it_is_used(settings, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    settings.BULKADMIN_EMBEDDED_DIR = tmp_path / "taken" / "mongo"
    settings.MONGODB_URI = ""
    problems = conf.check_settings()
    assert [(problem.id, problem.msg) for problem in problems] == [
        (
            "bulkadmin.E015",
            f"BULKADMIN_EMBEDDED_DIR ({tmp_path / 'taken' / 'mongo'}) cannot be used: "
            f"{tmp_path / 'taken'} is not a folder.",
        )
    ]
    settings.MONGODB_URI = "mongodb://db.example.com:27017/"
    assert check_ids() == []


def test_the_command_prints_the_table_and_writes_it_into_a_docs_page(tmp_path, capsys):
    call_command("settings_table")
    assert capsys.readouterr().out == conf.SETTINGS.markdown()
    page = tmp_path / "settings.md"
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    page.write_text(replace_documented_table(text, "| stale |\n"), encoding="utf-8")
    call_command("settings_table", "--docs", str(page))
    assert page.read_text(encoding="utf-8") == text
    assert capsys.readouterr().out == f"{page}: settings table written (34 settings).\n"


def manage(*arguments: str, variables: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py` with the project's own settings and `variables`, none of this process's settings."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if "DJANGO_" not in name and name not in ACCESSORS and not name.startswith("BULKADMIN_")
    }
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "project.settings", **variables}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


ACCESSOR_VALUES = """
import json
from bulkadmin.core import conf
names = {names!r}
print(json.dumps({{name: str(getattr(conf, accessor)()) for name, accessor in names.items()}}))
"""


@pytest.mark.subprocess
def test_every_setting_can_be_set_from_the_environment():
    variables = {name: text for name, (text, _) in ENVIRONMENT.items()}
    names = {name: ACCESSORS[name] for name in ENVIRONMENT}
    done = manage("shell", "--no-imports", "-c", ACCESSOR_VALUES.format(names=names), variables=variables)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {name: str(value) for name, (_, value) in ENVIRONMENT.items()}


@pytest.mark.subprocess
def test_a_typo_in_an_enum_variable_fails_manage_py_check_with_its_id():
    done = manage("check", variables={"BULKADMIN_BROWSE_PAGING": "keyst"})
    assert done.returncode == 1
    assert "?: (bulkadmin.E021) BULKADMIN_BROWSE_PAGING must be one of auto, skip, keyset, not 'keyst'." in done.stderr


@pytest.mark.subprocess
def test_a_variable_of_the_wrong_type_stops_the_process_naming_it():
    done = manage("check", variables={"BULKADMIN_UNDO_LIMIT": "100k"})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        "The environment variable BULKADMIN_UNDO_LIMIT must be a whole number, not '100k' (bulkadmin.E001)."
    )
