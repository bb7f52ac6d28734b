"""The Django permissions of every registered collection: `view_users`, `import_users`,
`export_users`, `change_users`, `delete_users` (app label `bulkadmin`, shown in Django's admin as
"Bulk admin | collection"). They are created after every `migrate`, for every collection then
registered, and can be given to users and groups like any model permission."""

from __future__ import annotations

from typing import Any

from bulkadmin.core.collection_admin import ACTION_LABELS, ACTIONS, codename
from bulkadmin.core.registry import site

APP_LABEL = "bulkadmin"
RIGHTS_MODEL = "collectionrights"


def create_permissions(apps: Any = None, **_: Any) -> int:
    """Create the missing permissions of every registered collection; return how many were
    created. Usable as a `post_migrate` receiver and from a data migration (`apps`)."""
    content_type_model, permission_model = _models(apps)
    content_type, _created = content_type_model.objects.get_or_create(app_label=APP_LABEL, model=RIGHTS_MODEL)
    wanted = {
        codename(action, name): f"{ACTION_LABELS[action]} {name}"[:255] for name in site.names() for action in ACTIONS
    }
    held = permission_model.objects.filter(content_type=content_type, codename__in=wanted)
    existing = set(held.values_list("codename", flat=True))
    missing = [
        permission_model(content_type=content_type, codename=code, name=label)
        for code, label in wanted.items()
        if code not in existing
    ]
    permission_model.objects.bulk_create(missing)
    return len(missing)


def _models(apps: Any) -> tuple[Any, Any]:
    if apps is None:
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        return ContentType, Permission
    return apps.get_model("contenttypes", "ContentType"), apps.get_model("auth", "Permission")
