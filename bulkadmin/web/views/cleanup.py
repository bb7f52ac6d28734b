"""Cleanup: the declared rules in order with what each would touch (counted in the background,
shown with their age); run all or one, or a dry run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone

from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs import counts
from bulkadmin.jobs.once import FIELD, form_key
from bulkadmin.jobs.parameters import CleanupParameters
from bulkadmin.models import Job
from bulkadmin.operations.cleanup import Rule, UnknownRule, rules
from bulkadmin.web.launch import AlreadyRunning, launch_cleanup
from bulkadmin.web.permissions import MissingPermission, may_do, may_see_job, require, visible_jobs
from bulkadmin.web.views.common import finished_message, page

ACTIONS = {"run": False, "dry_run": True}
COUNT_MAX_AGE = 300.0
_BUSY = "Another cleanup is already queued or running: wait for it to finish."


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
    """The rules; a dry run starts at once, a real run first shows what it would touch and runs
    when that number is typed (as a bulk delete does). Each rule needs the cleanup right (`delete_`)
    on its collection: a user sees and runs only those rules."""
    if not _runnable(request, rules.select()):
        raise MissingPermission(
            "You need the permission to delete from a collection with cleanup rules (bulkadmin.delete_<collection>)."
        )
    if request.method != "POST":
        return _render(request, confirm=_rerun_confirmation(request))
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _render(request, f"Unknown action {action!r}: choose run or dry_run.", status=400)
    names = request.POST.getlist("rules") or [name for name in [request.POST.get("rule", "")] if name]
    try:
        selected = rules.select(names) if names else rules.select()
    except UnknownRule as error:  # naming only the rules this user may run, not every declared one
        runnable = ", ".join(rule.name for rule in _runnable(request, rules.select())) or "none"
        return _render(request, f"Unknown cleanup rule {error.name!r}. Your rules: {runnable}.", status=404)
    require(request.user, "cleanup", sorted({rule.collection for rule in selected}))
    if not ACTIONS[action]:
        problem = _typed_problem(request, selected)
        if problem is not None:
            return _render(request, problem, confirm=_confirmation(selected), status=200 if not problem else 400)
    return _launch(request, selected, ACTIONS[action], names)


def _launch(request: HttpRequest, selected: list[Rule], dry_run: bool, names: list[str]) -> HttpResponse:
    key = form_key("cleanup", request.user, request.POST.get(FIELD))
    try:
        job = launch_cleanup(rules=selected, dry_run=dry_run, user=request.user, key=key)
    except AlreadyRunning as error:  # the running cleanup's number only to those who may see it
        shown = str(error) if may_see_job(request.user, error.job) else _BUSY
        messages.error(request, shown)
        return redirect("bulkadmin:cleanup")
    except BulkAdminError as error:
        messages.error(request, str(error))
        return redirect("bulkadmin:cleanup")
    what = f"rule {names[0]}" if len(names) == 1 else f"all {len(selected)} rules" if not names else "the rules"
    finished_message(request, job, f"Cleanup {'dry run ' if job.dry_run else ''}of {what}")
    return redirect("bulkadmin:job", pk=job.pk)


def _typed_problem(request: HttpRequest, selected: list[Rule]) -> str | None:
    """None when the typed number is the count shown and still current; else why not ('' when
    nothing was typed yet: the confirmation is shown first)."""
    if "typed" not in request.POST:
        return ""
    count = touched(selected)
    expected = request.POST.get("expected", "")
    typed = request.POST.get("typed", "").strip().replace(",", "")
    if count is None:
        return "The documents are still being counted: wait for the number, then type it."
    if expected != str(count):
        shown = expected or "not yet counted"
        return f"The number of documents changed from {shown} to {count}: check and confirm again."
    if typed != str(count):
        return f"To run the cleanup, type the number of documents it will touch ({count})."
    return None


def touched(selected: list[Rule]) -> int | None:
    """How many documents the rules would touch now, None while counting: the sum of each rule's
    count, so a document two rules match counts twice (`overlapping` tells when that may be)."""
    results = [rule_count(rule) for rule in selected]
    if any(not result.ok or result.matched is None for result in results):
        return None
    return sum(result.matched or 0 for result in results)


def overlapping(selected: list[Rule]) -> bool:
    """Whether two of the rules act on the same collection, so a document may be counted twice."""
    return len({rule.collection for rule in selected}) < len(selected)


def _confirmation(selected: list[Rule]) -> dict[str, Any]:
    """The typed confirmation of a real run of `selected`: the rules, the count to type, whether
    a document may be counted once per rule, and what cannot be undone."""
    everything = [rule.name for rule in selected] == rules.names()
    return {
        "rules": [rule.name for rule in selected],
        "all": everything,
        "count": touched(selected),
        "overlap": overlapping(selected),
        "archives": sorted({rule.collection for rule in selected if rule.action == "archive"}),
    }


def _rerun_confirmation(request: HttpRequest) -> dict[str, Any] | None:
    """The confirmation of re-running the real cleanup job given as `?rerun=`."""
    number = request.GET.get("rerun", "")
    if not number.isascii() or not number.isdigit():  # "²" is a digit, not a number
        return None
    job = get_object_or_404(visible_jobs(request.user, Job.objects.all()), pk=number, kind=Job.Kind.CLEANUP)
    try:
        selected = rules.select(CleanupParameters.from_parameters(job.parameters).rules or None)
    except UnknownRule as error:
        raise Http404(str(error)) from None
    return {**_confirmation(selected), "rerun": job.pk}


def _runnable(request: HttpRequest, declared: list[Rule]) -> list[Rule]:
    """The rules the user may run: those on collections where they hold the cleanup right."""
    return [rule for rule in declared if may_do(request.user, "cleanup", rule.collection)]


def rule_count(rule: Rule) -> RuleCount:
    """The documents `rule` would touch now, from the background count of its filter."""
    try:
        query, key = rule.query(timezone.now()), f"cleanup:{rule.name}"
        count = counts.counted(collection=rule.collection, filter=query, key=key, max_age=COUNT_MAX_AGE)
    except BulkAdminError as error:
        return RuleCount(error=str(error))
    return RuleCount(count, count.error)


def _render(
    request: HttpRequest, error: str = "", status: int = 200, confirm: dict[str, Any] | None = None
) -> HttpResponse:
    declared = _runnable(request, rules.select())
    results = [rule_count(rule) for rule in declared]
    rows = [
        {"number": number, "rule": rule, "describe": rule.describe(), "result": result}
        for number, (rule, result) in enumerate(zip(declared, results, strict=True), start=1)
    ]
    known = [result.matched or 0 for result in results]
    waiting = any(result.ok and result.matched is None for result in results)
    total = None if waiting else sum(known)
    context = {
        "title": "Cleanup",
        "rows": rows,
        "total": total,
        "overlap": overlapping(declared),
        "error": error,
        "confirm": confirm,
    }
    return page(request, "cleanup.html", context, status=status)
