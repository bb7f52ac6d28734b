"""Cleanup: the declared rules in order with what each would touch (counted in the background,
shown with their age); run all or one, or a dry run."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.operations.cleanup import Rule, UnknownRule, rules
from bulkadmin.web import counts
from bulkadmin.web.launch import launch_cleanup
from bulkadmin.web.views.common import finished_message, page

ACTIONS = {"run": False, "dry_run": True}
COUNT_MAX_AGE = 300.0


@dataclass(frozen=True)
class RuleCount:
    """What a rule would touch as far as known: the count (maybe old or on its way) or an error."""

    count: counts.Count | None = None
    error: str = ""

    @property
    def matched(self) -> int | None:
        return self.count.value if self.count else None

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def url(self) -> str:
        return reverse("bulkadmin:count", args=[self.count.key]) if self.count else ""


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


def rule_count(rule: Rule) -> RuleCount:
    """The documents `rule` would touch now, from the background count of its filter."""
    try:
        query, key = rule.query(timezone.now()), f"cleanup:{rule.name}"
        count = counts.counted(collection=rule.collection, filter=query, key=key, max_age=COUNT_MAX_AGE)
    except BulkAdminError as error:
        return RuleCount(error=str(error))
    return RuleCount(count, count.error)


def _render(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    declared = rules.select()
    results = [rule_count(rule) for rule in declared]
    rows = [
        {"number": number, "rule": rule, "describe": rule.describe(), "result": result}
        for number, (rule, result) in enumerate(zip(declared, results, strict=True), start=1)
    ]
    known = [result.matched or 0 for result in results]
    waiting = any(result.ok and result.matched is None for result in results)
    total = None if waiting else sum(known)
    context = {"title": "Cleanup", "rows": rows, "total": total, "error": error}
    return page(request, "cleanup.html", context, status=status)
