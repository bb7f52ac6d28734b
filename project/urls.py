"""URL configuration: the Django admin, which hosts bulkadmin's pages under `/admin/bulk/`."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/bulk/", include("bulkadmin.web.urls")),
    path("admin/", admin.site.urls),
]
