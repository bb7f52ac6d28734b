"""The Django admin: jobs are visible read-only, each to the users who may see its collections;
schedules are edited by the users holding their collections' rights; notice preferences by their user."""

import zoneinfo
from typing import Any, cast

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from bulkadmin.jobs import schedules
from bulkadmin.models import Job, NoticePreference, Schedule, ScheduledRun
from bulkadmin.web.permissions import collections_for, may, visible_jobs
from bulkadmin.web.schedule_forms import ScheduleForm, may_edit, schedule_collections, webhook_url


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "collection", "status", "origin", "user", "dry_run", "rows_done", "created_at")
    list_filter = ("kind", "status", "origin", "collection", "dry_run")
    search_fields = ("collection", "message")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Job]:
        return visible_jobs(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> list[str]:
        return [field.name for field in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False


# The admin index links to bulkadmin's dashboard.
admin.site.index_template = "bulkadmin/admin_index.html"


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Schedules, each editable by the users holding the rights its operation needs on every
    collection it touches (`delete_` for cleanup, `import_` for sync, `export_` for export)."""

    form = ScheduleForm
    list_display = ("name", "kind", "collection", "when", "enabled", "next_run", "last_runs")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "collection")
    readonly_fields = ("collection", "next_run", "last_runs")
    actions = ("pause", "resume")
    fieldsets = (
        (None, {"fields": ("name", "enabled", "kind", "collection")}),
        ("When", {"fields": ("cron", "timezone", "missed", "next_run", "last_runs")}),
        ("Cleanup", {"fields": ("rules", "batch_size")}),
        ("Sync", {"fields": ("source", "mode")}),
        ("Export", {"fields": ("export_collection", "export_format", "export_fields", "export_filter")}),
        ("Notices", {"fields": ("notify_emails", "notify_webhook", "notify_on_success")}),
    )

    def get_form(self, request: HttpRequest, obj: Schedule | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return partial_form(form, user=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Schedule]:
        found = super().get_queryset(request).prefetch_related("runs__job")
        if request.user.is_active and request.user.is_superuser:
            return found
        return found.filter(pk__in=[schedule.pk for schedule in found if may_see(request.user, schedule)])

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return self.has_module_permission(request) and (obj is None or may_see(request.user, obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return any(collections_for(request.user, operation) for operation in ("cleanup", "sync", "export"))

    def has_change_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return self.has_add_permission(request) if obj is None else may_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = cast(Any, request.user)
        timing = {"cron", "timezone", "enabled"}
        if obj.enabled and (not change or obj.next_run_at is None or timing & set(form.changed_data)):
            schedules.plan(obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="when")
    def when(self, obj: Schedule) -> str:
        return f"{obj.cron} ({obj.timezone})"

    @admin.display(description="next run")
    def next_run(self, obj: Schedule) -> str:
        if not obj.enabled:
            return "paused"
        if obj.next_run_at is None:
            return "-"
        zone = zoneinfo.ZoneInfo(obj.timezone)
        return f"{obj.next_run_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"

    @admin.display(description="last runs")
    def last_runs(self, obj: Schedule) -> str:
        runs = list(obj.runs.all()[:LAST_RUNS]) if obj.pk else []
        if not runs:
            return "never run"
        zone = zoneinfo.ZoneInfo(obj.timezone)
        return format_html_join(
            mark_safe("<br>"),
            "{}",
            ((run_line(run, zone),) for run in runs),
        )

    @admin.action(description="Pause the selected schedules")
    def pause(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        editable = [schedule.pk for schedule in queryset if may_edit(request.user, schedule)]
        paused = Schedule.objects.filter(pk__in=editable).update(enabled=False)
        self.message_user(request, f"{paused} schedule(s) paused.")

    @admin.action(description="Resume the selected schedules")
    def resume(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        resumed = 0
        for schedule in queryset.filter(enabled=False):
            if may_edit(request.user, schedule):
                schedule.enabled = True
                schedules.plan(schedule)  # from now: a paused schedule does not catch up
                schedule.save(update_fields=["enabled", "next_run_at", "updated_at"])
                resumed += 1
        self.message_user(request, f"{resumed} schedule(s) resumed.")


LAST_RUNS = 5  # runs shown per schedule


def may_see(user: Any, schedule: Schedule) -> bool:
    """Whether `user` may see a schedule: `view_` on every collection it touches."""
    names = schedule_collections(schedule)
    return bool(names) and all(may(user, "view", name) for name in names)


def run_line(run: ScheduledRun, zone: zoneinfo.ZoneInfo) -> SafeString:
    """One run: its due time, and its job's number (linked) and status, or why it did not run."""
    due = f"{run.due_at.astimezone(zone):%Y-%m-%d %H:%M}"
    late = " (late)" if run.late else ""
    if run.job is None:
        return format_html("{}{}: {}", due, late, run.get_outcome_display())
    link = reverse("bulkadmin:job", args=[run.job.pk])
    return format_html('{}{}: <a href="{}">job #{}</a> {}', due, late, link, run.job.pk, run.job.get_status_display())


def partial_form(form: type[Any], **bound: Any) -> Any:
    """The form class with `bound` keyword arguments given to every instance (the editing user)."""

    class Bound(form):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **bound, **kwargs)

    return Bound


@admin.register(NoticePreference)
class NoticePreferenceAdmin(admin.ModelAdmin):
    """Each staff user's own notice preference (a superuser sees everyone's)."""

    list_display = ("user", "email_when_long_job_ends", "webhook", "long_job_seconds")
    formfield_overrides = {models.URLField: {"assume_scheme": "https", "validators": [webhook_url]}}
    fields = ("email_when_long_job_ends", "webhook", "long_job_seconds")

    def get_queryset(self, request: HttpRequest) -> QuerySet[NoticePreference]:
        found = super().get_queryset(request)
        return found if request.user.is_superuser else found.filter(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: NoticePreference | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        mine = NoticePreference.objects.filter(user=cast(Any, request.user)).exists()
        return self.has_module_permission(request) and not mine

    def has_change_permission(self, request: HttpRequest, obj: NoticePreference | None = None) -> bool:
        own = obj is None or obj.user_id == request.user.pk or request.user.is_superuser
        return self.has_module_permission(request) and own

    def has_delete_permission(self, request: HttpRequest, obj: NoticePreference | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: NoticePreference, form: Any, change: bool) -> None:
        if not change:
            obj.user = cast(Any, request.user)
        super().save_model(request, obj, form, change)
