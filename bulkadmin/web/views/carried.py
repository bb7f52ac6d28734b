"""The pages the browse page's selection is carried to (Export…, Bulk update, Bulk delete) refuse
a query string of more values than Django reads in one request (`DATA_UPLOAD_MAX_NUMBER_FIELDS`),
which only far too many ticked documents make, with a page saying so rather than a bare
"Bad Request"."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse

from bulkadmin.web.selection import too_many_ids
from bulkadmin.web.views.common import page

View = Callable[..., HttpResponse]


def carrying_selection(view: View) -> View:
    """`view`, answering a request of too many values with a 400 page naming the limit of ticked documents."""

    @wraps(view)
    def carried(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except TooManyFieldsSent:
            context = {"title": "Too many documents ticked", "message": too_many_ids()}
            return page(request, "denied.html", context, status=400)

    return carried
