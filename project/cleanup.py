"""The example collections' cleanup rules (the guide's monthly cleanup), in the order they run."""

from __future__ import annotations

from bulkadmin.operations.cleanup import Rule, ago, register_rule
from project.collections import ApplicationLog, FileRecord, User, UserSession

register_rule(
    Rule(
        name="expired_sessions",
        model=UserSession,
        filter={"expires_at": {"$lt": ago()}},
        action="delete",
        description="Delete sessions that have expired.",
    )
)
register_rule(
    Rule(
        name="archive_old_logs",
        model=ApplicationLog,
        filter={"created_at": {"$lt": ago(days=180)}},
        action="archive",
        description="Move application logs older than 180 days into application_logs_archive.",
    )
)
register_rule(
    Rule(
        name="temporary_files",
        model=FileRecord,
        filter={"file_type": "temporary", "created_at": {"$lt": ago(days=30)}},
        action="delete",
        description="Delete temporary file records older than 30 days.",
    )
)
register_rule(
    Rule(
        name="inactive_users",
        model=User,
        filter={"last_login": {"$lt": ago(days=180)}, "status": {"$nin": ["inactive", "dormant", "deleted"]}},
        action="update",
        update={"$set": {"status": "inactive"}},
        description="Mark users inactive after 180 days without a login.",
    )
)
register_rule(
    Rule(
        name="dormant_users",
        model=User,
        filter={"last_login": {"$lt": ago(days=365)}, "status": {"$nin": ["dormant", "deleted"]}},
        action="update",
        update={"$set": {"status": "dormant"}},
        description="Mark users dormant after 365 days without a login (runs after, so it overrides, inactive).",
    )
)
register_rule(
    Rule(
        name="unverified_users",
        model=User,
        filter={"is_verified": False, "created_at": {"$lt": ago(days=30)}},
        action="delete",
        description="Delete users who have not verified their email within 30 days.",
    )
)
register_rule(
    Rule(
        name="deleted_users",
        model=User,
        filter={"status": "deleted"},
        action="delete",
        description="Delete users soft-deleted with status 'deleted'.",
    )
)
