from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "cvewatch.workbench"
    label = "workbench"
    verbose_name = "Analyst's workbench"
