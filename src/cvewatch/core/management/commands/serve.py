"""cvewatch serve [--bind HOST:PORT]: the production WSGI server (gunicorn), never runserver."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cvewatch import config
from cvewatch.core.backup import hold_running_lock


class Command(BaseCommand):
    help = "Serve cvewatch with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=None, help="HOST:PORT (default CVEWATCH_BIND, 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=None, help="worker processes (CVEWATCH_WORKERS)")
        parser.add_argument("--threads", type=int, default=None, help="threads per worker (CVEWATCH_THREADS)")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations first")

    def handle(self, *args, bind, workers, threads, no_migrate, **options):
        bind = bind or config.env_str("CVEWATCH_BIND") or "127.0.0.1:8000"
        host, sep, port = bind.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise CommandError(f"--bind must be HOST:PORT, not {bind!r}")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            if no_migrate:
                raise CommandError(f"{len(pending)} migrations are pending: run `cvewatch migrate`")
            call_command("migrate", interactive=False, verbosity=0)
        connection.close()  # never share a connection with forked workers

        from gunicorn.app.base import BaseApplication

        from cvewatch.wsgi import application

        options = {
            "bind": bind,
            "workers": workers or config.env_int("CVEWATCH_WORKERS", maximum=64),
            "threads": threads or config.env_int("CVEWATCH_THREADS", maximum=256),
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": settings.LOG_LEVEL.lower(),
            "timeout": 60,
            "keepalive": 5,
            "proc_name": "cvewatch",
        }

        class _Server(BaseApplication):
            def load_config(self):
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

        running = hold_running_lock()  # noqa: F841 - held while serving: `cvewatch restore` refuses meanwhile
        self.stdout.write(f"cvewatch listening on http://{bind}/", ending="\n")
        self.stdout.flush()
        _Server().run()
