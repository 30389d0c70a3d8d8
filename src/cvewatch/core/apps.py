from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cvewatch.core"
    label = "core"
