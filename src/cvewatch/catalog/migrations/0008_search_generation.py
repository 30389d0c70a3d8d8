# Written by hand (lane srch): the search generation on PostgreSQL (catalog/search.py).
#
# `search=`'s count (and a text-only `q`'s) is computed once per search generation. Every statement that can
# change an answer — a CVE's id, description or title, a vendor/product link or name — takes a shared advisory lock until
# its transaction ends (writers never wait for each other) and advances a sequence. A reader files a count
# only when no writer holds the lock. On SQLite the same generation is a one-row table bumped by row
# triggers that catalog/search.py creates after every migrate (SQLite's table rebuilds drop triggers).

from django.db import migrations

SEQUENCE = "catalog_cve_search_generation"
FUNCTION = "catalog_cve_search_bump"
WRITER_LOCK = 0x6376_6577_7372_6368  # catalog.search.PG_WRITER_LOCK
TRIGGERS = {
    "catalog_cve": "INSERT OR DELETE OR UPDATE OF cve_id, description, title OR TRUNCATE",
    "catalog_cvevendor": "INSERT OR DELETE OR UPDATE OR TRUNCATE",
    "catalog_cveproduct": "INSERT OR DELETE OR UPDATE OR TRUNCATE",
    "catalog_vendor": "UPDATE OF name OR TRUNCATE",
    "catalog_product": "UPDATE OF name OR TRUNCATE",
}


def create_generation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    schema_editor.execute(
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({WRITER_LOCK});
            PERFORM nextval('{SEQUENCE}');
            RETURN NULL;
        END $$"""
    )
    for table, events in TRIGGERS.items():
        schema_editor.execute(
            f"CREATE TRIGGER {table}_search_gen AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def drop_generation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_gen ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_catalog_counts"),
    ]

    operations = [
        migrations.RunPython(create_generation, drop_generation),
    ]
