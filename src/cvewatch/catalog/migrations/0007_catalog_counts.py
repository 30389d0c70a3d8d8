# Written by hand (lane api, issue 11): the CVE count /api/cve serves, kept exact by triggers instead of
# counted on every request (catalog/counts.py). This migration creates the table, installs the triggers and
# fills the count; the catalog's post_migrate handler re-installs them (and recounts) if a later SQLite table
# rebuild of catalog_cve dropped them.

from django.db import migrations, models


def install(apps, schema_editor):
    from cvewatch.catalog.counts import ensure_count_triggers

    ensure_count_triggers(using=schema_editor.connection)


def uninstall(apps, schema_editor):
    from cvewatch.catalog.counts import drop_count_triggers

    drop_count_triggers(using=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_query_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogCount",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
