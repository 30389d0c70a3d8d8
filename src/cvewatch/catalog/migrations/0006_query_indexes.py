# Written by hand (lane q, the query language): indexes its fields need on a full catalog.
#
# - epss_score and cvss40_score: `epss>=50`, `cvss40>=9` compare them (cvss31 has its index since 0001);
#   without one, PostgreSQL read every CVE row for `cwe:CWE-79 AND epss>=50` (bench/query.py).
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
        migrations.AddIndex(model_name="cve", index=models.Index(fields=["epss_score"], name="cve_epss")),
        migrations.AddIndex(model_name="cve", index=models.Index(fields=["cvss40_score"], name="cve_cvss40")),
        migrations.RunPython(create_title_index, drop_title_index),
    ]
