from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "cvewatch.alerts"
    label = "alerts"

    def ready(self) -> None:
        from cvewatch.alerts.receivers import on_changes_recorded
        from cvewatch.catalog.signals import changes_recorded

        # Deliveries are written in the transaction that records the changes (see services/matching.py).
        changes_recorded.connect(on_changes_recorded, dispatch_uid="alerts-deliveries")
        # Registers the delivery jobs with Huey: the server enqueues them, every worker runs them.
        from cvewatch.alerts import tasks  # noqa: F401
