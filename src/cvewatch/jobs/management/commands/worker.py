"""cvewatch worker: runs queued jobs and the periodic ones (scheduled syncs) until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cvewatch.jobs.consumer import run_worker
from cvewatch.jobs.health import HEARTBEAT_MAX_AGE, queue_health


class Command(BaseCommand):
    help = "Run the job worker: scheduled syncs every minute and every queued job, until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads", type=int, default=None, help="jobs run at once (default CVEWATCH_WORKER_THREADS)"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help=f"print the queue's health and exit 1 if no worker ran a job in {HEARTBEAT_MAX_AGE:.0f} s",
        )
        # Set by `cvewatch serve` for its internal worker: exit when that process is gone.
        parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, threads, check, parent_pid, **options):
        if check:
            return self._check()
        threads = threads or settings.WORKER_THREADS
        if not 1 <= threads <= 64:
            raise CommandError("--threads must be between 1 and 64")
        run_worker(threads=threads, parent_pid=parent_pid)

    def _check(self) -> None:
        health = queue_health()
        age = "never" if health.last_heartbeat_age is None else f"{health.last_heartbeat_age:.0f} s ago"
        self.stdout.write(
            f"queue: {health.storage}, {health.pending} pending, {health.scheduled} scheduled\n"
            f"last heartbeat: {age}" + (f" by {health.last_heartbeat_worker}" if health.last_heartbeat_worker else "")
        )
        if not health.healthy:
            raise CommandError("no worker has run a job recently: is `cvewatch worker` running?", returncode=1)
