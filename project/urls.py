"""URL configuration: the Django admin, which hosts bulkadmin's pages under `/admin/bulk/`, and the
health endpoint `/healthz`."""

from django.contrib import admin
from django.urls import include, path

from bulkadmin.web.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/bulk/", include("bulkadmin.web.urls")),
    path("admin/", admin.site.urls),
]
