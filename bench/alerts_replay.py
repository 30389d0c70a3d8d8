"""Alerts at scale: replay NVD `modified` snapshots with 1,000 projects x 5 subscriptions, each with a webhook.

Usage: .venv/bin/python bench/alerts_replay.py [--engine sqlite|postgresql] [--snapshots N] [--projects N]

In a fresh database (a temporary SQLite data dir, or a fresh PostgreSQL database `cvewatch_bench_alerts` on
127.0.0.1:5432, dropped at the end): import the oldest snapshot as the baseline (no alerts yet), create the
projects (each watching 5 of the baseline's 250 most frequent vendors) with a webhook to a local receiver
(threaded http.server in this process, verifying nothing: it only counts ids), start `cvewatch serve` (its
internal job worker sends the webhooks), then replay the next snapshots with `cvewatch import`, one at a time.
For each: the import's wall time and changes per second, the deliveries it wrote, and the time from the end of
the import to the last webhook received. The process tree of `cvewatch serve` is sampled throughout (PSS,
RSS). Targets: the last webhook within 60 s of the end of the import; serve's tree under 300 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _loadgen import free_port, wait_until_up
from serve_memory import Tree

ROOT = Path(__file__).resolve().parent.parent
CVEWATCH = Path(sys.executable).parent / "cvewatch"
HISTORY = ROOT.parent / "shared" / "data" / "corpus" / "nvd-1.1-modified-history"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DB = "cvewatch_bench_alerts"
LATENCY_TARGET = 60.0
MEMORY_TARGET_MIB = 300


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default backlog (5) drops concurrent connects: SYN retried after 1 s


class Receiver:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.requests = 0
        self.last = 0.0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with owner.lock:
                    owner.ids.add(self.headers.get("webhook-id", ""))
                    owner.requests += 1
                    owner.last = time.monotonic()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def snapshots() -> list[Path]:
    # nvdcve-1.1-modified.2023-08-09.<hash>.json.gz, oldest first
    return sorted(HISTORY.glob("nvdcve-1.1-modified.*.json.gz"), key=lambda p: p.name.split(".")[2])


def setup_projects(count: int, url: str) -> None:
    """In this process, on the benchmark database: the projects, their subscriptions and webhooks."""
    from django.db.models import Count

    from cvewatch.alerts.crypto import encrypt_secret, new_webhook_secret
    from cvewatch.alerts.models import Notification
    from cvewatch.catalog.models import Vendor
    from cvewatch.organizations.models import Organization, Project, ProjectVendor

    top = list(Vendor.objects.annotate(n=Count("cves")).order_by("-n").values_list("pk", flat=True)[:250])
    org = Organization.objects.create(name="bench")
    projects = Project.objects.bulk_create([Project(organization=org, name=f"p{i}") for i in range(count)])
    ProjectVendor.objects.bulk_create(
        [ProjectVendor(project=p, vendor_id=top[(i * 5 + k) % len(top)]) for i, p in enumerate(projects) for k in range(5)]
    )
    secret = encrypt_secret(new_webhook_secret())
    Notification.objects.bulk_create(
        [Notification(project=p, name="hook", channel="webhook", target=url, secret_encrypted=secret) for p in projects]
    )


def counts() -> tuple[int, int, int]:
    from cvewatch.alerts.models import Delivery
    from cvewatch.catalog.models import Change

    delivered = Delivery.objects.filter(status="delivered").count()
    return Change.objects.count(), Delivery.objects.count(), delivered


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="cvewatch-bench-alerts-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVEWATCH_")}
    env.update(
        CVEWATCH_DATA_DIR=str(work), CVEWATCH_SECRET_KEY="bench-alerts-" + "z" * 40, CVEWATCH_LOG_LEVEL="WARNING",
        CVEWATCH_ALLOW_PRIVATE_WEBHOOKS="true",
    )  # fmt: skip
    if args.engine == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
        env["CVEWATCH_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cvewatch.settings"
    import django

    django.setup()
    server = None
    try:
        subprocess.run([str(CVEWATCH), "migrate", "-v0"], env=env, check=True)
        files = snapshots()[: args.snapshots + 1]
        subprocess.run([str(CVEWATCH), "import", str(files[0])], env=env, check=True, capture_output=True)
        receiver = Receiver()
        setup_projects(args.projects, receiver.url)
        print(f"engine {args.engine}; baseline {files[0].name}; {args.projects} projects x 5 subscriptions, "
              f"each with a webhook; load average {os.getloadavg()[0]:.1f}")

        port = free_port()
        server = subprocess.Popen([str(CVEWATCH), "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(port, server, probe_url="/api/cve")
        tree = Tree(server.pid)
        stop = threading.Event()
        threading.Thread(target=tree.sample_until, args=(stop,), daemon=True).start()
        time.sleep(3)  # the worker's start-up jobs
        for path in files[1:]:
            changes0, deliveries0, _ = counts()
            started = time.monotonic()
            subprocess.run([str(CVEWATCH), "import", str(path)], env=env, check=True, capture_output=True)
            ended = time.monotonic()
            changes1, deliveries1, _ = counts()
            written = deliveries1 - deliveries0
            deadline = ended + 300
            while time.monotonic() < deadline:
                _, total, delivered = counts()
                if delivered == total and len(receiver.ids) >= total:
                    break
                time.sleep(0.2)
            _, total, delivered = counts()
            latency = (
                f"last webhook {receiver.last - ended:.1f} s after the import ended (target {LATENCY_TARGET:.0f} s)"
                if written
                else "nothing to send"
            )
            print(
                f"{path.name}: import {ended - started:.1f} s, {changes1 - changes0} changes "
                f"({(changes1 - changes0) / (ended - started):.0f}/s), {written} deliveries; {latency}; "
                f"{delivered}/{total} delivered, {receiver.requests} requests for {len(receiver.ids)} ids"
            )
        stop.set()
        pss, rss = tree.peak
        print(f"cvewatch serve process tree while delivering: peak PSS {pss / 1024:.0f} MiB, peak RSS "
              f"{rss / 1024:.0f} MiB (target {MEMORY_TARGET_MIB} MiB)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
        if args.engine == "postgresql":
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--snapshots", type=int, default=1, help="snapshots to replay after the baseline")
    parser.add_argument("--projects", type=int, default=1000)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
