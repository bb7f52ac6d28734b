"""App configuration: discovers `collections`, `cleanup` and `sync_sources` modules of installed apps at startup."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class BulkAdminConfig(AppConfig):
    name = "bulkadmin"
    verbose_name = "Bulk admin"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        autodiscover_modules("collections")
        autodiscover_modules("cleanup", "sync_sources")
