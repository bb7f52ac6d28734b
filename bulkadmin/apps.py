"""App configuration: discovers `collections`, `cleanup` and `sync_sources` modules of installed apps at
startup, registers the checks of bulkadmin's settings, imports the background tasks (which register
themselves in `jobs.queue`, so code below them can queue them), and creates the permissions of
every registered collection after each `migrate`."""

from importlib import import_module

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules

from bulkadmin.core import conf
from bulkadmin.core.rights import create_permissions


class BulkAdminConfig(AppConfig):
    name = "bulkadmin"
    verbose_name = "Bulk admin"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(conf.check_settings)
        autodiscover_modules("collections")
        autodiscover_modules("cleanup", "sync_sources")
        import_module(f"{self.name}.jobs.tasks")  # needs the models: imported once the registry is ready
        post_migrate.connect(create_permissions, sender=self, dispatch_uid="bulkadmin.collection_rights")
