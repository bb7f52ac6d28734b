"""The 403 page: inside the admin's layout, naming the permission that is missing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from bulkadmin.web.permissions import MissingPermission
from bulkadmin.web.views.common import page


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's `handler403`: what was refused and, when a permission would allow it, which one."""
    message = str(exception) if exception and str(exception) else "You may not see this page."
    permission = exception.permission if isinstance(exception, MissingPermission) else ""
    context = {"title": "Not allowed", "message": message, "permission": permission}
    return page(request, "denied.html", context, status=403)
