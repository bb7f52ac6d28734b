"""URL configuration: the Django admin, which hosts bulkadmin's pages."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
