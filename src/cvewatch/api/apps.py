from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cvewatch.api"
    label = "api"
