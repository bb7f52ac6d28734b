"""An import job's dry run is its `dry_run` column only: the copy older import jobs kept in their
parameters is removed (a confirmed dry run's copy said False while its column said so too)."""

from typing import Any

from django.db import migrations


def drop_dry_run_parameter(apps: Any, schema_editor: Any) -> None:
    Job = apps.get_model("bulkadmin", "Job")
    for job in Job.objects.filter(kind="import", parameters__has_key="dry_run").iterator():
        job.parameters.pop("dry_run", None)
        job.save(update_fields=["parameters"])


class Migration(migrations.Migration):
    dependencies = [
        ("bulkadmin", "0009_schedules"),
    ]

    operations = [
        migrations.RunPython(drop_dry_run_parameter, migrations.RunPython.noop),
    ]
