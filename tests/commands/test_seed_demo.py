"""`manage.py seed_demo`: reproducible demo data in every example collection, which every
cleanup rule has something to do on."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bulkadmin.operations.cleanup import rules, run_cleanup
from project.demo_data import seed_demo
from tests.factories import NOW

pytestmark = pytest.mark.django_db
COLLECTIONS = ("users", "user_sessions", "application_logs", "file_records", "page_stats", "analytics_events")


def seed(*arguments: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *arguments, stdout=out)
    return out.getvalue()


def test_seed_fills_every_example_collection(db):
    output = seed("--users", "100")
    counts = {name: db[name].count_documents({}) for name in COLLECTIONS}
    assert counts == {
        "users": 100,
        "user_sessions": 150,
        "application_logs": 250,
        "file_records": 50,
        "page_stats": 16,
        "analytics_events": 250,
    }
    assert "Demo data loaded: 816 documents" in output


def test_the_same_seed_gives_the_same_documents(db, mongo_uri):
    seed_demo(users=50, seed=7, now=NOW, db=db)
    other = db.client[f"{db.name}_b"]
    try:
        seed_demo(users=50, seed=7, now=NOW, db=other)
        for name in COLLECTIONS:
            assert list(db[name].find().sort("_id", 1)) == list(other[name].find().sort("_id", 1)), name
    finally:
        db.client.drop_database(other.name)


def test_if_empty_does_nothing_when_users_exist(db):
    seed("--users", "10")
    output = seed("--users", "10", "--if-empty")
    assert output.strip() == "users already holds 10 document(s); demo data not loaded."
    assert db.users.count_documents({}) == 10


def test_seeding_over_existing_users_needs_flush(db):
    seed("--users", "10")
    with pytest.raises(CommandError, match="users already holds 10 document"):
        seed("--users", "10")
    seed("--users", "20", "--flush")
    assert db.users.count_documents({}) == 20


def test_demo_data_spreads_over_time_so_every_cleanup_rule_matches(db):
    seed_demo(users=300, now=NOW, db=db)
    logins = [doc["last_login"] for doc in db.users.find({"last_login": {"$ne": None}})]
    assert min(logins) < NOW - dt.timedelta(days=365) and max(logins) > NOW - dt.timedelta(days=30)
    assert db.user_sessions.count_documents({"expires_at": {"$gt": NOW}}) > 0
    assert db.file_records.count_documents({"file_type": "permanent"}) > 0
    result = run_cleanup(rules=list(rules), now=NOW, dry_run=True)
    assert all(item.matched > 0 for item in result.details["rules"]), result.details["rules"]
