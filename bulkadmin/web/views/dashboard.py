"""The dashboard: every collection with its size and last job, and the recent jobs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from bulkadmin.core.mongo import get_db
from bulkadmin.core.registry import site
from bulkadmin.models import Job
from bulkadmin.web.views.common import page


def dashboard(request: HttpRequest) -> HttpResponse:
    db = get_db()
    collections = [
        {
            "name": model.collection,
            "model": model.__name__,
            "doc": (model.__doc__ or "").strip().split("\n")[0],
            "count": db[model.collection].count_documents({}),
            "last_job": Job.objects.filter(collection=model.collection).first(),
        }
        for model in site
    ]
    recent = Job.objects.select_related("user")[:10]
    return page(request, "dashboard.html", {"title": "Bulk admin", "collections": collections, "recent": recent})
