"""App configuration: discovers `collections`, `cleanup` and `sync_sources` modules of installed apps at
startup and registers the checks of bulkadmin's settings."""

from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules

from bulkadmin.core import conf


class BulkAdminConfig(AppConfig):
    name = "bulkadmin"
    verbose_name = "Bulk admin"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(conf.check_settings)
        autodiscover_modules("collections")
        autodiscover_modules("cleanup", "sync_sources")
