"""URL configuration: the Django admin, which hosts bulkadmin's pages under `/admin/bulk/`, and the
health endpoint `/healthz`."""

from django.contrib import admin
from django.urls import include, path

from bulkadmin.web.views.health import healthz

# A refused page keeps the admin's layout and names the missing permission.
handler403 = "bulkadmin.web.views.denied.permission_denied"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/bulk/", include("bulkadmin.web.urls")),
    path("admin/", admin.site.urls),
]
