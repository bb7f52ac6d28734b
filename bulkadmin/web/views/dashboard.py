"""The dashboard: every collection with its estimated size and last job, and the recent jobs.

Sizes are the servers' estimates (no scan; kept for a minute, see `jobs.counts.estimated`), shown as "about N"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from bulkadmin.core.registry import site
from bulkadmin.jobs.counts import estimated
from bulkadmin.models import Job
from bulkadmin.web.permissions import rights, touching, visible_collections, visible_jobs
from bulkadmin.web.views.common import page


def dashboard(request: HttpRequest) -> HttpResponse:
    """The collections the user may see, and the recent jobs among those they may see."""
    collections = [
        {
            "name": model.collection,
            "model": model.__name__,
            "doc": (model.__doc__ or "").strip().split("\n")[0],
            "count": (count := estimated(model.collection).value or 0),
            "count_text": f"{count:,}",
            "last_job": visible_jobs(request.user, Job.objects.filter(touching(model.collection))).first(),
            "rights": rights(request.user, model.collection),
        }
        for model in map(site.get, visible_collections(request.user))
    ]
    recent = visible_jobs(request.user, Job.objects.select_related("user"))[:10]
    return page(request, "dashboard.html", {"title": "Bulk admin", "collections": collections, "recent": recent})
