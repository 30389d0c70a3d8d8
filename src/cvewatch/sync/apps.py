from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "cvewatch.sync"
    label = "sync"
    verbose_name = "Sync"
