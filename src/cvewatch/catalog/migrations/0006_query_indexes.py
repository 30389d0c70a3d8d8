# Written by hand (lane q, the query language): indexes its fields need on a full catalog.
#
# - cvss40_score: `cvss40>=9` compares it (cvss31 has its index since 0001, epss_score the list's sort index
#   cve_epss_desc since 0004, which serves `epss>=50` as well: a second epss index would only slow imports).
# - title: `title:overflow` is a substring search like description's; on PostgreSQL a pg_trgm GIN index on
#   the expression icontains compiles to; on SQLite the FTS5 search table gains a title column
#   (catalog/search.py rebuilds it after migrate when the column is missing).

from django.db import migrations, models

TITLE_INDEX = "cve_title_trgm"


def create_title_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_INDEX} ON catalog_cve USING gin ((UPPER(title::text)) gin_trgm_ops)"
    )


def drop_title_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_importrun_heartbeat"),
    ]

    operations = [
        migrations.AddIndex(model_name="cve", index=models.Index(fields=["cvss40_score"], name="cve_cvss40")),
        migrations.RunPython(create_title_index, drop_title_index),
    ]
