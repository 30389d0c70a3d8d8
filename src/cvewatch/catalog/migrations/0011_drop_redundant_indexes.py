# Written by hand (issue 11): ten B-tree indexes that another index already serves, dropped.
#
# Every one is the leading column of a wider index the planner uses for the same lookups and ranges:
# - each link table's (cve_id): twice, Django's foreign-key index and cvevendor_cve (…_cve); one is kept;
# - each link table's (vendor_id | product_id | weakness_id): the unique (target, cve_id) and …_order;
# - catalog_product (vendor_id): the unique (vendor_id, name);
# - catalog_change (cve_id): change_cve_created (cve_id, created_at DESC);
# - catalog_cve (created_at), (cvss31_score): cve_published_desc, cve_cvss31_desc (0004, any direction).
# Each was written on every insert and, on a first load, built again at its end (catalog/bulk_load.py).
#
# Only the database drops them (by what it holds, whatever their names); the models say db_index=False so
# Django's state agrees. A first load interrupted with an index still to rebuild (catalog_deferred_ddl) has
# that row removed too, or the next import would put the index back.

from django.db import migrations, models
import django.db.models.deletion

# (table, column) of each dropped single-column index.
REDUNDANT = (
    ("catalog_cvevendor", "cve_id"),
    ("catalog_cvevendor", "vendor_id"),
    ("catalog_cveproduct", "cve_id"),
    ("catalog_cveproduct", "product_id"),
    ("catalog_cveweakness", "cve_id"),
    ("catalog_cveweakness", "weakness_id"),
    ("catalog_product", "vendor_id"),
    ("catalog_change", "cve_id"),
    ("catalog_cve", "created_at"),
    ("catalog_cve", "cvss31_score"),
)
# The (cve_id) index each link table keeps: the models' own Meta index.
KEPT = {"cvevendor_cve", "cveproduct_cve", "cveweakness_cve"}
PENDING_TABLE = "catalog_deferred_ddl"  # catalog.bulk_load.PENDING_TABLE, as of this migration


def _auto_name(schema_editor, table: str, column: str) -> str:
    return schema_editor._create_index_name(table, [column], suffix="")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for table, column in REDUNDANT:
            constraints = connection.introspection.get_constraints(cursor, table)
            for name, info in sorted(constraints.items()):
                if (
                    info["index"]
                    and not info["unique"]
                    and not info["primary_key"]
                    and info["columns"] == [column]
                    and name not in KEPT
                ):
                    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
        if PENDING_TABLE in tables:
            names = [_auto_name(schema_editor, table, column) for table, column in REDUNDANT]
            cursor.execute(
                f"DELETE FROM {PENDING_TABLE} WHERE kind = 'index' AND name IN ({', '.join(['%s'] * len(names))})",
                names,
            )


def create(apps, schema_editor):
    for table, column in REDUNDANT:
        name = schema_editor.quote_name(_auto_name(schema_editor, table, column))
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({schema_editor.quote_name(column)})")


def _unindexed_fk(to: str, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, to=f"catalog.{to}", **kwargs
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_link_order"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, create)],
            state_operations=[
                migrations.AlterField(
                    model_name="product",
                    name="vendor",
                    field=_unindexed_fk("vendor", related_name="products"),
                ),
                migrations.AlterField(model_name="cve", name="created_at", field=models.DateTimeField()),
                migrations.AlterField(
                    model_name="cve", name="cvss31_score", field=models.FloatField(blank=True, null=True)
                ),
                migrations.AlterField(model_name="cvevendor", name="cve", field=_unindexed_fk("cve")),
                migrations.AlterField(model_name="cvevendor", name="vendor", field=_unindexed_fk("vendor")),
                migrations.AlterField(model_name="cveproduct", name="cve", field=_unindexed_fk("cve")),
                migrations.AlterField(model_name="cveproduct", name="product", field=_unindexed_fk("product")),
                migrations.AlterField(model_name="cveweakness", name="cve", field=_unindexed_fk("cve")),
                migrations.AlterField(
                    model_name="cveweakness", name="weakness", field=_unindexed_fk("weakness")
                ),
                migrations.AlterField(
                    model_name="change",
                    name="cve",
                    field=_unindexed_fk("cve", related_name="changes"),
                ),
            ],
        ),
    ]
