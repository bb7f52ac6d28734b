from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bulkadmin", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="error_index",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
