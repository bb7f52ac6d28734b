"""The example collections of the bulk-operations guide, registered with bulkadmin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bulkadmin.core.collection_admin import ALL_OPERATIONS, CollectionAdmin
from bulkadmin.core.documents import Index, MongoModel, PyObjectId
from bulkadmin.core.messages import name_pattern
from bulkadmin.core.registry import register

EMAIL_PATTERN = name_pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an email address such as name@example.com")
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=EMAIL_PATTERN)]
UserStatus = Literal["active", "young", "mature", "inactive", "dormant", "deleted"]
Tier = Literal["platinum", "gold", "silver", "bronze"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Profile(BaseModel):
    """A user's public profile, stored as a sub-document."""

    model_config = ConfigDict(extra="forbid")

    bio: str = ""
    avatar_url: str | None = None


class User(MongoModel):
    """An application user; `email` is the natural key, `external_id` the key of synced users.
    `name` is indexed for the browser's search (by prefix); `email` is stored lower-cased (`Email`),
    so it is searched in lower case."""

    collection = "users"
    key_fields = ("email",)
    indexes = (
        Index((("name", 1),)),
        Index((("external_id", 1),)),
        Index((("last_login", 1),)),
        Index((("status", 1),)),
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Email
    age: int | None = Field(default=None, ge=0, le=150)
    status: UserStatus = "active"
    tier: Tier | None = None
    discount: float = Field(default=0.0, ge=0, le=1)
    total_spent: float = Field(default=0.0, ge=0)
    external_id: int | str | None = None
    is_active: bool = True
    is_verified: bool = False
    profile: Profile | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utc_now)
    last_login: dt.datetime | None = None
    last_sync: dt.datetime | None = None
    external_updated_at: dt.datetime | None = None


class UserSession(MongoModel):
    """A login session; expired ones are deleted by cleanup."""

    collection = "user_sessions"
    indexes = (Index((("expires_at", 1),)),)

    user_id: PyObjectId | None = None
    token: str
    created_at: dt.datetime = Field(default_factory=utc_now)
    expires_at: dt.datetime


class ApplicationLog(MongoModel):
    """An application log line; old ones are archived by cleanup."""

    collection = "application_logs"
    indexes = (Index((("created_at", 1),)),)

    level: Literal["debug", "info", "warning", "error"] = "info"
    message: str
    created_at: dt.datetime = Field(default_factory=utc_now)
    archived: bool = False
    archived_at: dt.datetime | None = None


class FileRecord(MongoModel):
    """A stored file; temporary ones are deleted by cleanup after 30 days."""

    collection = "file_records"
    indexes = (Index((("file_type", 1), ("created_at", 1))),)

    path: str
    file_type: Literal["temporary", "permanent"] = "permanent"
    size: int = Field(default=0, ge=0)
    created_at: dt.datetime = Field(default_factory=utc_now)


class PageStats(MongoModel):
    """View counts per page, upserted with `$inc` from analytics events."""

    collection = "page_stats"
    key_fields = ("page",)

    page: str
    view_count: int = Field(default=0, ge=0)
    last_updated: dt.datetime | None = None


class AnalyticsEvent(MongoModel):
    """A raw analytics event (page views and user actions)."""

    collection = "analytics_events"
    indexes = (Index((("type", 1), ("timestamp", 1))),)

    type: Literal["page_view", "user_action"]
    page: str | None = None
    user_id: PyObjectId | None = None
    action: str | None = None
    timestamp: dt.datetime = Field(default_factory=utc_now)


class UserAdmin(CollectionAdmin):
    list_display = ("id", "name", "email", "age", "status", "tier", "total_spent", "is_active")
    search_fields = ("name", "email")
    list_filter = ("status", "tier", "is_active", "is_verified")
    label_fields = ("name", "email")
    readonly_fields = ("created_at",)


class UserSessionAdmin(CollectionAdmin):
    label_fields = ("token",)


class ApplicationLogAdmin(CollectionAdmin):
    list_filter = ("level", "archived")
    label_fields = ("level", "message")


class FileRecordAdmin(CollectionAdmin):
    label_fields = ("path",)


class AnalyticsEventAdmin(CollectionAdmin):
    """Raw events are appended and aged out by cleanup, never edited or bulk deleted by hand."""

    label_fields = ("type", "page", "action")
    operations = ALL_OPERATIONS - {"delete", "edit", "update"}


register(User, UserAdmin)
register(UserSession, UserSessionAdmin)
register(ApplicationLog, ApplicationLogAdmin)
register(FileRecord, FileRecordAdmin)
register(PageStats)
register(AnalyticsEvent, AnalyticsEventAdmin)
