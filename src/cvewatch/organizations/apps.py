from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "cvewatch.organizations"
    label = "organizations"
