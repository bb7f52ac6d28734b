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
