"""URLs of the staff web admin, mounted under `/admin/bulk/`; every page is staff-only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from bulkadmin.web.views import (
    browse,
    cleanup,
    compose,
    counts,
    dashboard,
    document_edit,
    documents,
    exports,
    import_scan,
    imports,
    jobs,
    sync,
)

app_name = "bulkadmin"
staff = admin.site.admin_view  # each view checks the rights of the collections it touches (`web.permissions`)

urlpatterns = [
    path("", staff(dashboard.dashboard), name="dashboard"),
    path("collections/<str:name>/", staff(browse.browse), name="browse"),
    # One document: add, edit and delete (each an edit job); before the document page, whose id may hold "/".
    path("collections/<str:name>/add/", staff(document_edit.document_add), name="document_add"),
    path(
        "collections/<str:name>/documents/<path:doc_id>/edit/",
        staff(document_edit.document_change),
        name="document_change",
    ),
    path(
        "collections/<str:name>/documents/<path:doc_id>/delete/",
        staff(document_edit.document_delete),
        name="document_delete",
    ),
    path("collections/<str:name>/documents/<path:doc_id>/", staff(documents.document), name="document"),
    path("counts/<str:key>/", staff(counts.count_status), name="count"),
    path("update/", staff(compose.compose_update), name="update"),
    path("delete/", staff(compose.compose_delete), name="delete"),
    path("sync/", staff(sync.sync_page), name="sync"),
    path("cleanup/", staff(cleanup.cleanup_page), name="cleanup"),
    path("jobs/", staff(jobs.job_list), name="jobs"),
    path("jobs/<int:pk>/", staff(jobs.job_detail), name="job"),
    path("jobs/<int:pk>/status/", staff(jobs.job_status), name="job_status"),
    path("jobs/<int:pk>/cancel/", staff(jobs.job_cancel), name="job_cancel"),
    path("jobs/<int:pk>/undo/", staff(jobs.job_undo), name="job_undo"),
    path("jobs/<int:pk>/rerun/", staff(jobs.job_rerun), name="job_rerun"),
    path("jobs/<int:pk>/resume/", staff(jobs.job_resume), name="job_resume"),
    path("jobs/<int:pk>/errors/", staff(jobs.job_errors), name="job_errors"),
    # Export: choose format and fields for what the browse page carried; the job's file, while kept.
    path("export/", staff(exports.export_page), name="export"),
    path("jobs/<int:pk>/download/", staff(exports.export_download), name="export_download"),
    # Import: upload, preview and dry run, then confirm from the dry run's result page.
    path("import/", staff(imports.import_upload), name="import"),
    path("import/<str:token>/", staff(imports.import_preview), name="import_preview"),
    path("import/<str:token>/scan/<str:key>/", staff(import_scan.import_scan), name="import_scan"),
    path("import/confirm/<int:pk>/", staff(imports.import_confirm), name="import_confirm"),
]
