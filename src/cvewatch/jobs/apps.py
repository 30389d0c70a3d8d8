from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "cvewatch.jobs"
    label = "jobs"
    verbose_name = "Jobs"
