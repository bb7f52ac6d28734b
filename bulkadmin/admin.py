"""The Django admin: jobs are visible read-only, each to the users who may see its collections."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from bulkadmin.models import Job
from bulkadmin.web.permissions import visible_jobs


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
