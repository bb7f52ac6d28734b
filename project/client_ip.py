"""The client address that sign-in lockouts count against."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The peer address, or, behind `BULKADMIN_TRUSTED_PROXIES` proxies that each append to
    X-Forwarded-For, the address the outermost trusted proxy saw (clients cannot forge it)."""
    proxies = settings.BULKADMIN_TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
