"""The cleanup operation: the project's rules at their day boundaries, archive crash safety,
dry runs, rule order and a failing rule that does not stop the others."""

from __future__ import annotations

import pytest

from bulkadmin.bulk import bulk_insert
from bulkadmin.core.exceptions import AlreadyRegistered, ImproperlyDeclared
from bulkadmin.operations.cleanup import CleanupRegistry, Rule, ago, archive_model, copy_to_archive, rules, run_cleanup
from project.collections import ApplicationLog, FileRecord, User, UserSession
from tests.factories import NOW, days_ago, user


def set_status(status: str) -> dict:
    return {"$set": {"status": status}}


def run(*names: str, **options):
    return run_cleanup(rules=rules.select(names), now=NOW, **options)


def user_at(number: int, **fields) -> dict:
    return user(number, is_verified=True, created_at=days_ago(800), **fields)


def statuses(db) -> dict[str, str]:
    return {doc["name"]: doc["status"] for doc in db.users.find()}


def test_expired_sessions_are_deleted_and_current_ones_kept(db):
    moments = {"past": days_ago(1 / 24), "now": NOW, "future": days_ago(-1)}
    bulk_insert(UserSession, [{"token": name, "expires_at": when} for name, when in moments.items()])
    result = run("expired_sessions")
    assert (result.details["rules"][0].matched, result.details["rules"][0].deleted) == (1, 1)
    assert sorted(doc["token"] for doc in db.user_sessions.find()) == ["future", "now"]


def test_temporary_files_older_than_30_days_are_deleted(db):
    rows = [{"path": f"tmp/{days}", "file_type": "temporary", "created_at": days_ago(days)} for days in (29, 30, 31)]
    rows.append({"path": "keep/31", "file_type": "permanent", "created_at": days_ago(31)})
    bulk_insert(FileRecord, rows)
    result = run("temporary_files")
    assert result.details["rules"][0].deleted == 1
    assert sorted(doc["path"] for doc in db.file_records.find()) == ["keep/31", "tmp/29", "tmp/30"]


def test_logs_older_than_180_days_move_to_the_archive(db):
    bulk_insert(ApplicationLog, [{"message": f"log {days}", "created_at": days_ago(days)} for days in (179, 180, 181)])
    result = run("archive_old_logs")
    assert (result.details["rules"][0].matched, result.details["rules"][0].archived) == (1, 1)
    assert sorted(doc["message"] for doc in db.application_logs.find()) == ["log 179", "log 180"]
    archived = list(db.application_logs_archive.find())
    assert [(doc["message"], doc["archived"], doc["archived_at"]) for doc in archived] == [("log 181", True, NOW)]


def test_users_become_inactive_after_180_days_and_dormant_after_365(db):
    days = (179, 180, 181, 364, 365, 366)
    bulk_insert(User, [user_at(day, last_login=days_ago(day)) for day in days] + [user_at(1, last_login=None)])
    result = run("inactive_users", "dormant_users")
    assert [(item.rule, item.matched, item.modified) for item in result.details["rules"]] == [
        ("inactive_users", 4, 4),
        ("dormant_users", 1, 1),
    ]
    assert statuses(db) == {
        "User 179": "active",
        "User 180": "active",
        "User 181": "inactive",
        "User 364": "inactive",
        "User 365": "inactive",
        "User 366": "dormant",
        "User 1": "active",
    }


def test_status_rules_leave_already_flagged_users_alone_on_the_next_run(db):
    bulk_insert(User, [user_at(day, last_login=days_ago(day)) for day in (200, 400)])
    run("inactive_users", "dormant_users")
    again = run("inactive_users", "dormant_users")
    assert [(item.matched, item.modified) for item in again.details["rules"]] == [(0, 0), (0, 0)]
    assert statuses(db) == {"User 200": "inactive", "User 400": "dormant"}


def test_unverified_users_older_than_30_days_and_deleted_users_are_deleted(db):
    rows = [user(day, is_verified=False, created_at=days_ago(day)) for day in (29, 30, 31)]
    rows += [user(7, is_verified=True, created_at=days_ago(90)), user(8, is_verified=True, status="deleted")]
    bulk_insert(User, rows)
    result = run("unverified_users", "deleted_users")
    assert [(item.rule, item.deleted) for item in result.details["rules"]] == [
        ("unverified_users", 1),
        ("deleted_users", 1),
    ]
    assert sorted(statuses(db)) == ["User 29", "User 30", "User 7"]


def test_all_rules_run_in_declared_order_with_exact_counts(db):
    bulk_insert(UserSession, [{"token": "old", "expires_at": days_ago(1)}])
    bulk_insert(ApplicationLog, [{"message": "old", "created_at": days_ago(200)}])
    bulk_insert(FileRecord, [{"path": "t", "file_type": "temporary", "created_at": days_ago(40)}])
    bulk_insert(User, [user_at(1, last_login=days_ago(400)), user(2, is_verified=False, created_at=days_ago(40))])
    result = run_cleanup(rules=list(rules), now=NOW)
    assert [(item.rule, item.deleted, item.modified, item.archived) for item in result.details["rules"]] == [
        ("expired_sessions", 1, 0, 0),
        ("archive_old_logs", 0, 0, 1),
        ("temporary_files", 1, 0, 0),
        ("inactive_users", 0, 1, 0),
        ("dormant_users", 0, 1, 0),
        ("unverified_users", 1, 0, 0),
        ("deleted_users", 0, 0, 0),
    ]
    assert result.ok
    assert result.details["totals"] == {"matched": 6, "deleted": 3, "modified": 2, "archived": 1}


def test_rules_run_in_the_order_given_so_the_later_rule_wins(db):
    bulk_insert(User, [user_at(1, last_login=days_ago(400))])
    inactive = Rule("inactive", User, {"last_login": {"$lt": ago(days=180)}}, "update", set_status("inactive"))
    dormant = Rule("dormant", User, {"last_login": {"$lt": ago(days=365)}}, "update", set_status("dormant"))
    run_cleanup(rules=[inactive, dormant], now=NOW)
    assert statuses(db) == {"User 1": "dormant"}
    run_cleanup(rules=[dormant, inactive], now=NOW)
    assert statuses(db) == {"User 1": "inactive"}


def test_select_keeps_declared_order_whatever_order_names_are_given_in():
    assert [rule.name for rule in rules.select(["deleted_users", "expired_sessions"])] == [
        "expired_sessions",
        "deleted_users",
    ]


def test_a_dry_run_counts_per_rule_and_writes_nothing(db):
    bulk_insert(UserSession, [{"token": name, "expires_at": days_ago(day)} for name, day in (("old", 1), ("new", -1))])
    bulk_insert(ApplicationLog, [{"message": f"m{days}", "created_at": days_ago(days)} for days in (10, 200, 300)])
    bulk_insert(User, [user_at(1, last_login=days_ago(400)), user_at(2, status="deleted")])
    before = {name: list(db[name].find()) for name in db.list_collection_names()}
    result = run_cleanup(rules=list(rules), now=NOW, dry_run=True)
    after = {name: list(db[name].find()) for name in db.list_collection_names()}
    assert after == before
    assert "application_logs_archive" not in after
    matched = {item.rule: item.matched for item in result.details["rules"]}
    assert matched == {
        "expired_sessions": 1,
        "archive_old_logs": 2,
        "temporary_files": 0,
        "inactive_users": 1,
        "dormant_users": 1,
        "unverified_users": 0,
        "deleted_users": 1,
    }
    assert result.details["totals"]["deleted"] == result.details["totals"]["archived"] == 0


def _logs(db, count: int) -> list:
    bulk_insert(ApplicationLog, [{"message": f"old {n}", "created_at": days_ago(200 + n)} for n in range(count)])
    bulk_insert(ApplicationLog, [{"message": "recent", "created_at": days_ago(5)}])
    return [doc["_id"] for doc in db.application_logs.find({"message": {"$ne": "recent"}}).sort("_id", 1)]


def _copies(db, ids) -> dict:
    counts = dict.fromkeys(ids, 0)
    for name in ("application_logs", "application_logs_archive"):
        for doc in db[name].find({"_id": {"$in": ids}}):
            counts[doc["_id"]] += 1
    return counts


def test_a_crash_between_copy_and_delete_is_finished_by_the_rerun_without_duplicates(db):
    ids = _logs(db, 5)
    first = list(db.application_logs.find({"_id": {"$in": ids[:3]}}))
    copy_to_archive(ApplicationLog, first, now=NOW, db=db)  # the copy happened; the process died before deleting
    assert db.application_logs_archive.count_documents({}) == 3
    result = run("archive_old_logs", batch_size=2)
    assert (result.details["rules"][0].matched, result.details["rules"][0].archived) == (5, 5)
    assert _copies(db, ids) == dict.fromkeys(ids, 1)
    assert db.application_logs_archive.count_documents({}) == 5
    assert [doc["message"] for doc in db.application_logs.find()] == ["recent"]


def test_an_interrupted_archive_run_resumes_and_every_document_exists_once(db):
    ids = _logs(db, 5)

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run("archive_old_logs", batch_size=2, progress=interrupt)
    assert db.application_logs_archive.count_documents({}) == 2
    result = run("archive_old_logs", batch_size=2)
    assert result.details["rules"][0].archived == 3
    assert _copies(db, ids) == dict.fromkeys(ids, 1)


def test_archive_copies_reuse_the_models_indexes_without_a_natural_key():
    model = archive_model(ApplicationLog)
    assert (model.collection, model.key_fields) == ("application_logs_archive", ())
    assert model.indexes == ApplicationLog.indexes


def test_a_failing_rule_is_reported_and_the_next_rules_still_run(db):
    # A legacy document the model rejects (an unknown field) cannot be archived; it stays in place.
    db.application_logs.insert_one({"message": "legacy", "created_at": days_ago(300), "host": "a"})
    bulk_insert(ApplicationLog, [{"message": "old", "created_at": days_ago(300)}])
    bulk_insert(FileRecord, [{"path": "t", "file_type": "temporary", "created_at": days_ago(40)}])
    result = run("archive_old_logs", "temporary_files")
    archive, files = result.details["rules"]
    assert not archive.ok
    assert archive.archived == 1
    assert "1 document(s) could not be archived" in archive.error
    assert "host" in archive.error
    assert (files.ok, files.deleted) == (True, 1)
    assert result.details["failed_rules"] == ["archive_old_logs"]
    assert [doc["message"] for doc in db.application_logs.find()] == ["legacy"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("r", User, {"last_seen": {"$lt": ago(days=1)}}), "Unknown field 'last_seen'"),
        (Rule("r", User, {"status": "gone"}), "status"),
        (Rule("r", User, {"status": "deleted"}, "update"), "`update` is required for, and only for"),
        (Rule("r", User, {"status": "deleted"}, "update", {"$where": "1"}), r"Operator \$where is not allowed"),
        (Rule("r", User, {"status": "deleted"}, "purge"), "action must be one of delete, update, archive"),
    ],
)
def test_a_wrongly_declared_rule_is_refused_at_registration(rule, message):
    with pytest.raises(ImproperlyDeclared, match=message):
        CleanupRegistry().register(rule)


def test_a_rule_name_can_be_declared_only_once():
    registry = CleanupRegistry()
    registry.register(Rule("r", User, {"status": "deleted"}))
    with pytest.raises(AlreadyRegistered, match="Cleanup rule 'r' is already declared"):
        registry.register(Rule("r", User, {"status": "dormant"}))
