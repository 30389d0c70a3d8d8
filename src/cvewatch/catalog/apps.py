from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "cvewatch.catalog"
    label = "catalog"

    def ready(self) -> None:
        from cvewatch.catalog import counts, link_order
        from cvewatch.catalog.search import on_post_migrate

        # SQLite's CVE search table and triggers (see catalog/search.py); a no-op on PostgreSQL.
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="catalog-search-table")
        # The kept CVE count's triggers (see catalog/counts.py): re-created if a table rebuild dropped them.
        post_migrate.connect(counts.on_post_migrate, sender=self, dispatch_uid="catalog-count-triggers")
        # The CVE's updated_at on its link rows (see catalog/link_order.py): re-created like the counts'.
        post_migrate.connect(link_order.on_post_migrate, sender=self, dispatch_uid="catalog-link-order")
