"""Building the POST data of the compose pages as a browser would send it."""

from __future__ import annotations

from typing import Any

ROWS = 3


def compose_data(
    collection: str = "users",
    *,
    filters: list[tuple[str, str, str]] = (),
    updates: list[tuple[str, str, str]] = (),
    filter_json: str = "",
    update_json: str = "",
    action: str = "preview",
    **extra: Any,
) -> dict[str, Any]:
    """The compose form's fields: filter rows (field, operator, value), update rows
    (operator, field, value), the JSON alternatives and the action."""
    data: dict[str, Any] = {"collection": collection, "action": action, "batch_size": "7"}
    data.update(filter_json=filter_json, update_json=update_json)
    for prefix, rows, names in (
        ("filter", filters, ("field", "operator", "value")),
        ("update", updates, ("operator", "field", "value")),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = str(max(ROWS, len(rows)))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for number, row in enumerate(rows):
            for name, value in zip(names, row, strict=True):
                data[f"{prefix}-{number}-{name}"] = value
    data.update(extra)
    return data


def confirm_data(preview_response, typed: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """The confirm POST after a preview: the same fields plus the hidden preview fields."""
    context = preview_response.context
    count = context["state"].preview.count
    data = compose_data(action="confirm", **kwargs)
    data.update(previewed=context["previewed"], expected=str(count), typed=str(count) if typed is None else typed)
    return data


def days_ago(days: float):
    """A moment `days` before now (cleanup rules compare with the real clock)."""
    import datetime as dt

    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


# What each project rule matches in `cleanup_data`, in the rules' order.
CLEANUP_COUNTS = {
    "expired_sessions": 3,
    "archive_old_logs": 2,
    "temporary_files": 4,
    "inactive_users": 2,
    "dormant_users": 1,
    "unverified_users": 1,
    "deleted_users": 1,
}


def cleanup_data(db) -> None:
    """Documents for every project cleanup rule, matching exactly `CLEANUP_COUNTS`."""
    from bulkadmin.bulk import bulk_insert
    from project.collections import ApplicationLog, FileRecord, User, UserSession
    from tests.factories import user

    sessions = [{"token": f"old{n}", "expires_at": days_ago(2)} for n in range(3)]
    bulk_insert(
        UserSession, [*sessions, *({"token": f"live{n}", "expires_at": days_ago(-30)} for n in range(2))], db=db
    )
    logs = [{"message": f"old {n}", "created_at": days_ago(200)} for n in range(2)]
    bulk_insert(ApplicationLog, [*logs, {"message": "new"}], db=db)
    files = [{"path": f"/tmp/{n}", "file_type": "temporary", "created_at": days_ago(40)} for n in range(4)]
    files += [{"path": "/tmp/new", "file_type": "temporary"}, {"path": "/keep", "created_at": days_ago(40)}]
    bulk_insert(FileRecord, files, db=db)
    verified = {"is_verified": True}
    rows = [
        user(1, last_login=days_ago(200), **verified),
        user(2, last_login=days_ago(400), **verified),
        user(3, created_at=days_ago(40)),
        user(4, status="deleted", **verified),
        user(5, last_login=days_ago(1), **verified),
        user(6, **verified),
    ]
    bulk_insert(User, rows, db=db)


def run_cleanup(client, url: str = "/admin/bulk/cleanup/", follow: bool = False, **data: Any):
    """Run cleanup rules as a browser does: ask to run, read the number to type, type it."""
    asked = client.post(url, {**data, "action": "run"})
    confirm = asked.context["confirm"] if asked.status_code == 200 and asked.context else None
    if confirm is None or confirm["count"] is None:
        return asked
    typed = {"rules": confirm["rules"], "expected": str(confirm["count"]), "typed": str(confirm["count"])}
    return client.post(url, {**data, **typed, "action": "run"}, follow=follow)
