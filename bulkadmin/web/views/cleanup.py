"""Cleanup: the declared rules in order with what each would touch now; run all or one, or a dry run."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.cleanup import UnknownRule, rules, run_cleanup
from bulkadmin.web.launch import launch_cleanup
from bulkadmin.web.views.common import finished_message, page

ACTIONS = {"run": False, "dry_run": True}


def cleanup_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request)
    action, name = request.POST.get("action", ""), request.POST.get("rule", "")
    if action not in ACTIONS:
        return _render(request, f"Unknown action {action!r}: choose run or dry_run.", status=400)
    try:
        selected = [rules.get(name)] if name else rules.select()
    except UnknownRule as error:
        return _render(request, str(error), status=404)
    try:
        job = launch_cleanup(rules=selected, dry_run=ACTIONS[action], user=request.user)
    except BulkAdminError as error:
        messages.error(request, str(error))
        return redirect("bulkadmin:cleanup")
    what = f"rule {name}" if name else f"all {len(selected)} rules"
    finished_message(request, job, f"Cleanup {'dry run ' if job.dry_run else ''}of {what}")
    return redirect("bulkadmin:job", pk=job.pk)


def _render(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    """The rules, each with its count now: the dry-run counting, one `count_documents` per rule."""
    counted = run_cleanup(rules=rules.select(), dry_run=True)
    rows = [
        {"number": number, "rule": rule, "describe": rule.describe(), "result": result}
        for number, (rule, result) in enumerate(zip(rules.select(), counted.rules, strict=True), start=1)
    ]
    context = {"title": "Cleanup", "rows": rows, "total": counted.totals["matched"], "error": error}
    return page(request, "cleanup.html", context, status=status)
