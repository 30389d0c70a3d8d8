from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "cvewatch.catalog"
    label = "catalog"
