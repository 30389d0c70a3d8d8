"""cvewatch serve [--bind HOST:PORT]: the production WSGI server (gunicorn), never runserver.

Unless CVEWATCH_WORKER=external it also keeps one job worker (`cvewatch worker`) running beside gunicorn's
web workers: started with the server, restarted if it dies, stopped with it (see core/supervisor.py).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.db.migrations.executor import MigrationExecutor

from cvewatch import config
from cvewatch.core import balanced_worker
from cvewatch.core.backup import hold_running_lock
from cvewatch.core.memory import limit_malloc_arenas
from cvewatch.core.supervisor import ChildProcess

# The job worker stops within 8 s of SIGTERM (jobs.consumer); past this it is killed.
JOB_WORKER_STOP_TIMEOUT = 15.0
# Every web thread holds its own SQLite connection, kept between requests, and settings size each one's page
# cache for the importer (64 MiB): 2 workers x 4 threads could hold 512 MiB. The API's reads are served from
# the OS page cache just as well, so the web workers keep 2 MiB each (SQLite's default: the hot index pages of
# the lists fit), and no memory map: a kept connection's mapped pages would stay in the tree's PSS
# (bench/serve_memory.py measures the whole tree).
WEB_SQLITE_CACHE_KIB = 2048
SQLITE_WEB_CONN_MAX_AGE = 600  # seconds, as dj-database-url's for PostgreSQL (settings.py)

ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


class Command(BaseCommand):
    help = "Serve cvewatch with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=None, help="HOST:PORT (default CVEWATCH_BIND, 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=None, help="worker processes (CVEWATCH_WORKERS)")
        parser.add_argument("--threads", type=int, default=None, help="threads per worker (CVEWATCH_THREADS)")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations first")

    def handle(self, *args, bind, workers, threads, no_migrate, **options):
        bind = bind or config.env_str("CVEWATCH_BIND") or "127.0.0.1:8000"
        try:
            # Without CVEWATCH_BASE_URL the hosts answered and the links mailed follow the address served.
            settings.ALLOWED_HOSTS = config.allowed_hosts(bind=bind)
            settings.BASE_URL = config.base_url(bind=bind)
        except config.ConfigError as exc:
            raise CommandError(str(exc).replace("the bind address", "--bind")) from None
        os.environ["CVEWATCH_BIND"] = bind  # the job worker started below derives the same links from it
        if not settings.BASE_URL:
            self.stderr.write(
                f"Serving {bind} without CVEWATCH_BASE_URL: only {', '.join(settings.ALLOWED_HOSTS)} are answered "
                "and no mail carries a link. Set CVEWATCH_BASE_URL to the public URL."
            )
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            if no_migrate:
                raise CommandError(f"{len(pending)} migrations are pending: run `cvewatch migrate`")
            call_command("migrate", interactive=False, verbosity=0)
        del executor, pending  # the migration graph: the forked workers need no copy of it
        connection.close()  # never share a connection with forked workers
        if connection.vendor == "sqlite":
            # Web threads keep their SQLite connection between requests, as they do on PostgreSQL: reconnecting,
            # running the PRAGMAs and parsing the schema again was 40% of an API request's instructions. Only
            # here: the job worker (its own process, 64 MiB caches) still closes its connections after each job.
            connection.settings_dict["CONN_MAX_AGE"] = SQLITE_WEB_CONN_MAX_AGE
        connection_created.connect(_small_sqlite_cache, dispatch_uid="serve-sqlite-cache")

        from gunicorn.app.base import BaseApplication
        from gunicorn.arbiter import Arbiter

        from cvewatch.wsgi import application

        _preload_for_workers()
        connections.close_all()  # in case anything loaded opened one: forked workers must never share it

        options = {
            "bind": bind,
            "workers": workers or config.env_int("CVEWATCH_WORKERS", maximum=64),
            "threads": threads or config.env_int("CVEWATCH_THREADS", maximum=256),
            # gthread, new connections spread evenly over the workers (core/balanced_worker.py).
            "worker_class": "cvewatch.core.balanced_worker.BalancedThreadWorker",
            "when_ready": lambda server: balanced_worker.prepare(server.num_workers),
            "pre_fork": balanced_worker.assign_slot,
            "child_exit": balanced_worker.release_slot,
            "accesslog": "-",
            # gunicorn's default line, plus the time the worker spent on the request in microseconds (from its
            # first byte read to its last byte written: the time waiting for a free worker is not in it).
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "loglevel": settings.LOG_LEVEL.lower(),
            "timeout": 60,
            "keepalive": 5,
            "proc_name": "cvewatch",
            # Control characters in logged values (a Basic username with a newline) cannot forge lines.
            "logger_class": "cvewatch.core.accesslog.EscapingLogger",
            **_control_socket(Path(settings.DATA_DIR)),
        }

        job_worker = None
        if settings.WORKER_MODE == "internal":
            job_worker = ChildProcess(
                name="job worker",
                argv=[sys.executable, "-m", "cvewatch", "worker", "--parent-pid", str(os.getpid())],
            )

        class _Arbiter(Arbiter):
            # The arbiter's loop runs manage_workers about once a second and stop() on every way out
            # (SIGTERM, SIGINT, SIGQUIT, a crash of the loop): the job worker follows the web workers.
            def manage_workers(self):
                super().manage_workers()
                if job_worker is not None:
                    job_worker.ensure_running()

            def stop(self, graceful=True):
                if job_worker is None:
                    return super().stop(graceful)
                job_worker.terminate()  # it winds down while the web workers do
                super().stop(graceful)
                job_worker.reap(timeout=JOB_WORKER_STOP_TIMEOUT)

        class _Server(BaseApplication):
            def load_config(self):
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

            def run(self):
                _Arbiter(self).run()

        running = hold_running_lock()  # noqa: F841 - held while serving: `cvewatch restore` refuses meanwhile
        worker_note = "with its job worker" if job_worker else "without a job worker (CVEWATCH_WORKER=external)"
        self.stdout.write(f"cvewatch listening on http://{bind}/ {worker_note}", ending="\n")
        self.stdout.flush()
        # The web workers are forked from this process: they share its memory copy-on-write, so cap the heap's
        # arenas for them (core/memory.py) and move what is loaded out of the collector's reach, or every
        # worker's first full collection would write to, and so copy, each page of it.
        limit_malloc_arenas()
        gc.collect()
        gc.freeze()
        _Server().run()


# A unix socket path longer than this does not fit sockaddr_un (108 bytes with its NUL, on Linux).
_MAX_SOCKET_PATH = 100


def _control_socket(data_dir: Path) -> dict[str, object]:
    """gunicorn's control socket in the data dir (owner only), not ~/.gunicorn shared by every instance."""
    path = data_dir / "gunicorn.ctl"
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        return {"control_socket_disable": True}  # better none than one in the shared home directory
    return {"control_socket": str(path), "control_socket_mode": 0o600}


def _preload_for_workers() -> None:
    """Load here, once, what each web worker would load on its first requests: the URL conf and with it every
    view, DRF and its settings' classes. The workers forked from this process then share those pages instead
    of each holding its own copy (bench/serve_memory.py). Nothing here opens a database connection."""
    from django.template import engines
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - imports cvewatch.urls and every view, fills the resolver's tables
    engines.all()


def _small_sqlite_cache(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{WEB_SQLITE_CACHE_KIB}")
            cursor.execute("PRAGMA mmap_size=0")
