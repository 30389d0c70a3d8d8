from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "cvewatch.ingest"
    label = "ingest"
