"""Indexes of the CVE list's orders (catalog.ordering): published, CVSS v3.1 and EPSS, each with the id.

Raw SQL because the NULL order differs: PostgreSQL needs `DESC NULLS LAST` in the index to walk it for
`ORDER BY score DESC NULLS LAST`, a clause SQLite's CREATE INDEX does not have (there NULLs sort first in
ascending order, which is the same thing). One index serves both directions, read backwards for `asc`.
"""

from django.db import migrations

INDEXES = {
    "cve_published_desc": ("created_at DESC, id DESC", "created_at DESC, id DESC"),
    "cve_cvss31_desc": ("cvss31_score DESC, id DESC", "cvss31_score DESC NULLS LAST, id DESC"),
    "cve_epss_desc": ("epss_score DESC, id DESC", "epss_score DESC NULLS LAST, id DESC"),
}


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (sqlite_columns, postgres_columns) in INDEXES.items():
        columns = postgres_columns if postgres else sqlite_columns
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON catalog_cve ({columns})")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_importrun_worker_interrupted")]

    operations = [migrations.RunPython(create, drop)]
