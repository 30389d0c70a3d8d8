"""Every task module, one per concern. The worker imports this package so Huey knows every task.

To add a concern (the alerts' deliveries, say): write `tasks/<concern>.py` with thin `@db_task()` functions
calling that app's services, enqueue them with `queue.enqueue_on_commit`, and import the module here.
"""

from cvewatch.jobs.tasks import health, sync

__all__ = ["health", "sync"]
