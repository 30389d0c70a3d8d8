from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cvewatch.web"
    label = "web"
