# Written by hand (lane links, issue 11): one vendor's, product's or weakness's CVEs in list order without
# walking the CVE index (catalog/link_order.py), and their counts reused per search generation.
#
# Each link table gets `cve_updated_at` (its CVE's updated_at, kept exact by triggers) and an index (target,
# cve_updated_at DESC, cve_id DESC). The triggers are installed and the column filled before the index is
# built (one write per row, not two). The search generation (0008) also follows the CVE's score and its
# weakness links, and no longer the link tables' other columns (cve_updated_at moves with every CVE update).

from django.db import migrations, models

# 0008's PostgreSQL generation events, restored by the reverse.
PREVIOUS_PG_EVENTS = {
    "catalog_cve": "INSERT OR DELETE OR UPDATE OF cve_id, description, title OR TRUNCATE",
    "catalog_cvevendor": "INSERT OR DELETE OR UPDATE OR TRUNCATE",
    "catalog_cveproduct": "INSERT OR DELETE OR UPDATE OR TRUNCATE",
    "catalog_vendor": "UPDATE OF name OR TRUNCATE",
    "catalog_product": "UPDATE OF name OR TRUNCATE",
}


def install(apps, schema_editor):
    from cvewatch.catalog import link_order, search

    link_order.ensure_link_order_triggers(using=schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        search.install_pg_generation_triggers(schema_editor, search.PG_GENERATION_EVENTS)
    # SQLite's generation triggers are compared and re-created after migrate (catalog/search.py).


def uninstall(apps, schema_editor):
    from cvewatch.catalog import link_order, search

    link_order.drop_link_order_triggers(using=schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS catalog_cveweakness_search_gen ON catalog_cveweakness")
        search.install_pg_generation_triggers(schema_editor, PREVIOUS_PG_EVENTS)


def _order_index(model: str, target: str) -> migrations.AddIndex:
    return migrations.AddIndex(
        model_name=model,
        index=models.Index(fields=[target, "-cve_updated_at", "-cve"], name=f"{model}_order"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_importedinput_digests"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name=model,
                name="cve_updated_at",
                field=models.DateTimeField(blank=True, editable=False, null=True),
            )
            for model in ("cvevendor", "cveproduct", "cveweakness")
        ),
        migrations.RunPython(install, uninstall),
        _order_index("cvevendor", "vendor"),
        _order_index("cveproduct", "product"),
        _order_index("cveweakness", "weakness"),
    ]
