"""The guide's longer examples: migration, synchronisation, analytics and monthly cleanup."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import Field

from bulkadmin.bulk import bulk_delete, bulk_insert, bulk_update, bulk_write
from bulkadmin.core.documents import MongoModel
from project.collections import AnalyticsEvent, ApplicationLog, FileRecord, PageStats, User, UserSession
from tests.factories import NOW, days_ago, user


class OldUser(MongoModel):
    collection = "old_users"
    first_name: str
    last_name: str
    email_address: str
    age: int
    biography: str = ""
    avatar: str | None = None
    migrated: bool = False
    migrated_at: dt.datetime | None = None


class NewUser(MongoModel):
    collection = "new_users"
    name: str
    email: str
    age: int
    profile: dict = Field(default_factory=dict)
    migrated_from: object = None
    migrated_at: dt.datetime


def test_data_migration_moves_users_and_marks_the_old_ones(db):
    old = [
        {
            "first_name": f"F{i}",
            "last_name": f"L{i}",
            "email_address": f"u{i}@x.org",
            "age": 30 + i,
            "biography": "hi",
        }
        for i in range(7)
    ]
    bulk_insert(OldUser, old)
    old_users = [OldUser.from_document(doc) for doc in db.old_users.find()]
    new_user_data = [
        {
            "name": f"{u.first_name} {u.last_name}",
            "email": u.email_address,
            "age": u.age,
            "profile": {"bio": u.biography, "avatar_url": u.avatar},
            "migrated_from": u.id,
            "migrated_at": NOW,
        }
        for u in old_users
    ]
    assert bulk_insert(NewUser, new_user_data, batch_size=5).inserted_count == 7
    updates = [
        {
            "filter": {"id": {"$in": [u.id for u in old_users]}},
            "update": {"$set": {"migrated": True, "migrated_at": NOW}},
        }
    ]
    assert bulk_update(OldUser, updates).modified_count == 7
    assert db.old_users.count_documents({"migrated": True}) == 7
    migrated = db.new_users.find_one({"email": "u3@x.org"})
    assert migrated["name"] == "F3 L3"
    assert migrated["profile"] == {"bio": "hi", "avatar_url": None}
    assert migrated["migrated_from"] == db.old_users.find_one({"email_address": "u3@x.org"})["_id"]


def test_synchronisation_with_bulk_write_upserts_by_external_id(db):
    bulk_insert(User, [user(1, external_id=101), user(2, external_id=102, name="Same")])
    external_data = [
        {"id": 101, "name": "Changed", "email": "user1@example.com", "updated_at": "2026-11-01T10:00:00Z"},
        {"id": 103, "name": "Brand New", "email": "new103@example.com", "updated_at": "2026-11-02T10:00:00Z"},
    ]
    operations = [
        {
            "update_one": {
                "filter": {"external_id": data["id"]},
                "update": {
                    "$set": {
                        "name": data["name"],
                        "email": data["email"],
                        "external_updated_at": data["updated_at"],
                        "last_sync": NOW,
                    }
                },
                "upsert": True,
            }
        }
        for data in external_data
    ]
    result = bulk_write(User, operations)
    assert (result.upserted_count, result.modified_count) == (1, 1)
    changed = db.users.find_one({"external_id": 101})
    assert changed["name"] == "Changed"
    assert changed["external_updated_at"] == dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)  # typed from ISO text
    assert db.users.find_one({"external_id": 103})["name"] == "Brand New"
    assert db.users.find_one({"external_id": 102})["name"] == "Same"


def test_analytics_events_are_inserted_and_page_stats_upserted_with_inc(db):
    pages = ["/", "/pricing", "/", "/docs", "/", "/pricing"]
    events = [{"type": "page_view", "page": page, "timestamp": NOW} for page in pages]
    events += [{"type": "user_action", "action": "signup", "timestamp": NOW} for _ in range(3)]
    by_type: dict[str, list] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    for type_events in by_type.values():
        assert bulk_insert(AnalyticsEvent, type_events, batch_size=2000).inserted_count == len(type_events)

    def update_page_view_stats(view_events):
        updates = [
            {
                "filter": {"page": page},
                "update": {"$inc": {"view_count": count}, "$set": {"last_updated": NOW}},
                "upsert": True,
            }
            for page, count in Counter(e["page"] for e in view_events).items()
        ]
        return bulk_update(PageStats, updates)

    first = update_page_view_stats(by_type["page_view"])
    assert (first.upserted_count, first.modified_count) == (3, 0)
    second = update_page_view_stats(by_type["page_view"])
    assert (second.upserted_count, second.modified_count) == (0, 3)
    assert {d["page"]: d["view_count"] for d in db.page_stats.find()} == {"/": 6, "/pricing": 4, "/docs": 2}
    assert db.analytics_events.count_documents({"type": "user_action"}) == 3


def test_monthly_cleanup_deletes_archives_and_flags_with_exact_counts(db):
    bulk_insert(
        UserSession,
        [{"token": f"t{i}", "expires_at": NOW + dt.timedelta(hours=h)} for i, h in enumerate([-48, -1, 1, 24])],
    )
    bulk_insert(ApplicationLog, [{"message": f"m{d}", "created_at": days_ago(d)} for d in (10, 179, 181, 400)])
    bulk_insert(
        FileRecord,
        [
            {"path": f"/tmp/{d}", "file_type": kind, "created_at": days_ago(d)}
            for kind in ("temporary", "permanent")
            for d in (29, 31)
        ],
    )
    bulk_insert(User, [user(i, last_login=days_ago(d)) for i, d in enumerate((10, 181, 200, 366, 500))])
    one_month_ago, six_months_ago, one_year_ago = days_ago(30), days_ago(180), days_ago(365)

    sessions = bulk_delete(UserSession, [{"filter": {"expires_at": {"$lt": NOW}}}])
    logs = bulk_update(
        ApplicationLog,
        [
            {
                "filter": {"created_at": {"$lt": six_months_ago}},
                "update": {"$set": {"archived": True, "archived_at": NOW}},
            }
        ],
    )
    files = bulk_delete(FileRecord, [{"filter": {"file_type": "temporary", "created_at": {"$lt": one_month_ago}}}])
    status = bulk_update(
        User,
        [
            {"filter": {"last_login": {"$lt": six_months_ago}}, "update": {"$set": {"status": "inactive"}}},
            {"filter": {"last_login": {"$lt": one_year_ago}}, "update": {"$set": {"status": "dormant"}}},
        ],
    )
    assert (sessions.deleted_count, logs.modified_count, files.deleted_count) == (2, 2, 1)
    assert status.modified_count == 6  # 4 marked inactive, then 2 of them dormant
    assert sorted(d["token"] for d in db.user_sessions.find()) == ["t2", "t3"]
    assert db.application_logs.count_documents({"archived": True}) == 2
    assert db.file_records.count_documents({}) == 3
    statuses = Counter(d["status"] for d in db.users.find())
    assert statuses == {"active": 1, "inactive": 2, "dormant": 2}
