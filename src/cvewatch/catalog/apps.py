from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "cvewatch.catalog"
    label = "catalog"

    def ready(self) -> None:
        from cvewatch.catalog.search import on_post_migrate

        # SQLite's CVE search table and triggers (see catalog/search.py); a no-op on PostgreSQL.
        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="catalog-search-table")
