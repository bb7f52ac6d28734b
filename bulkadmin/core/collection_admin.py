"""`CollectionAdmin`: what the admin shows and allows for one collection, like Django's `ModelAdmin`.

The storage model keeps what storage needs (fields, keys, indexes); everything about pages,
rights and operations lives here, registered with the model:

    class UserAdmin(CollectionAdmin):
        list_display = ("name", "email", "tier")
        search_fields = ("name", "email")
        operations = ALL_OPERATIONS - {"delete"}

    site.register(User, UserAdmin)
"""

from __future__ import annotations

from typing import Any, ClassVar

from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import ImproperlyDeclared, InvalidSpec

# What a collection may allow; each is checked against the matching right (see `ACTION_OF_OPERATION`).
ALL_OPERATIONS: frozenset[str] = frozenset({"import", "export", "update", "delete", "edit", "cleanup", "sync"})
# The rights of a collection, as Django permission codenames `<action>_<collection>`.
ACTIONS: tuple[str, ...] = ("view", "import", "export", "change", "delete")
ACTION_LABELS: dict[str, str] = {
    "view": "Can see",
    "import": "Can import into",
    "export": "Can export",
    "change": "Can change (bulk updates, single edits, undo) in",
    "delete": "Can delete from",
}
# Which right each operation needs on the collection it touches.
ACTION_OF_OPERATION: dict[str, str] = {
    "import": "import",
    "export": "export",
    "update": "change",
    "edit": "change",
    "undo": "change",
    "delete": "delete",
    "cleanup": "delete",
    "sync": "import",
}


class CollectionAdmin:
    """The admin options of one collection. Every option has a default, so a model registered
    without an admin gets this class as is."""

    list_display: ClassVar[tuple[str, ...]] = ()  # the browser's default columns (default: `id` and the first fields)
    search_fields: ClassVar[tuple[str, ...] | None] = None  # text fields the search reads (default: every text field)
    list_filter: ClassVar[tuple[str, ...] | None] = None  # fields offered as filters (default: every choice field)
    ordering: ClassVar[str] = ""  # the listing's default order, e.g. "-created_at" (default: `_id`)
    label_fields: ClassVar[tuple[str, ...]] = ()  # fields naming a document for people (default: the key fields)
    readonly_fields: ClassVar[tuple[str, ...]] = ()  # fields no update, edit or import may change
    batch_size: ClassVar[int] = DEFAULT_BATCH_SIZE  # documents per batch of this collection's jobs
    operations: ClassVar[frozenset[str]] = ALL_OPERATIONS  # what may be done to the collection at all

    def __init__(self, model: type[MongoModel]) -> None:
        self.model = model

    def allows(self, operation: str) -> bool:
        """Whether the collection allows `operation` (one of `ALL_OPERATIONS`) at all."""
        return operation in self.operations

    def has_permission(self, user: Any, action: str) -> bool:
        """Whether the active staff `user` holds the right `action` (view, import, export, change,
        delete) on this collection: its Django permission (`bulkadmin.change_users`). Override to
        decide otherwise, as `ModelAdmin.has_change_permission` does."""
        return bool(user.has_perm(f"bulkadmin.{codename(action, self.model.collection)}"))

    def labels(self) -> tuple[str, ...]:
        """The fields that name a document: `label_fields`, else the key fields."""
        return self.label_fields or self.model.key_fields

    def check_update(self, update: dict[str, Any]) -> None:
        """Refuse (`InvalidSpec`) an update (model field names) that would change a read-only field."""
        touched = {path.split(".")[0] for fields in update.values() if isinstance(fields, dict) for path in fields}
        for name in self.readonly_fields:
            if name in touched:
                raise InvalidSpec(
                    f"{name} is read-only in the {self.model.collection} admin: no update may change it.", field=name
                )

    def before_import_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """Change one imported row (field name -> cell, before validation); return the row.
        Raise `ValueError` to reject the row with that message."""
        return row

    def clean_row(self, document: MongoModel) -> MongoModel:
        """Check or change one validated imported document; return it. Raise `ValueError` to
        reject the row with that message."""
        return document


def check_admin(admin: CollectionAdmin) -> None:
    """Raise `ImproperlyDeclared` when an option names an unknown field, operation or order."""
    model, name = admin.model, type(admin).__name__
    top = set(model.model_fields)
    fields: dict[str, tuple[str, ...]] = {
        "list_display": admin.list_display,
        "search_fields": admin.search_fields or (),
        "list_filter": admin.list_filter or (),
        "label_fields": admin.label_fields,
        "readonly_fields": admin.readonly_fields,
    }
    if admin.ordering:
        fields["ordering"] = (admin.ordering.removeprefix("-"),)
    for option, names in fields.items():
        for field in names:
            if field.split(".")[0] not in top:
                raise ImproperlyDeclared(f"{name}.{option} names unknown field {field!r} of {model.__name__}.")
    unknown = set(admin.operations) - ALL_OPERATIONS
    if unknown:
        known = ", ".join(sorted(ALL_OPERATIONS))
        raise ImproperlyDeclared(f"{name}.operations names unknown operations {sorted(unknown)}; known: {known}.")
    if admin.batch_size < 1:
        raise ImproperlyDeclared(f"{name}.batch_size must be at least 1, not {admin.batch_size}.")


def codename(action: str, collection: str) -> str:
    """The Django permission codename of `action` (one of `ACTIONS`) on `collection`: `view_users`."""
    return f"{action}_{collection}"
