from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "cvewatch.workbench"
    label = "workbench"
    verbose_name = "Analyst's workbench"

    def ready(self) -> None:
        # The catalog and organizations sit below the workbench: it hands them what they cannot import, the
        # query language's userTag/project fields and the CVEs of projects' query subscriptions.
        from cvewatch.catalog.query import context
        from cvewatch.organizations import selectors as org_selectors
        from cvewatch.workbench import query

        context.register_provider(query.resolvers_for)
        org_selectors.register_project_condition(query.query_subscriptions_condition)
