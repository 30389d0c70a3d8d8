"""Soak: API and page traffic against a real `cvewatch serve` while syncs and imports change CVEs and alerts go out.

    CVEWATCH_DATA_DIR=/path/to/loaded/data .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 32]

The data dir must hold a loaded, migrated install (SQLite, or PostgreSQL through CVEWATCH_DATABASE_URL; add
CVEWATCH_REDIS_URL for the Redis queue). The script creates a throw-away user, organization and API token,
and --projects projects watching popular vendors, each with a webhook to a real local receiver (which verifies
every signature) and the first --emails also with a confirmed address on a real local SMTP server (aiosmtpd).
It starts `cvewatch serve` (with its job worker, which sends the alerts) on a free loopback port, and from
--concurrency threads sends the API requests (Bearer token) and the web pages (a logged-in session) round
robin, for --minutes. Meanwhile:
- `cvewatch sync kev nvd` re-runs the local feeds of --sync-kev and --sync-nvd (cursors forgotten, so every run
  reads and merges them all again), back to back or --sync-pause seconds apart;
- every --slice-every seconds `cvewatch import` re-imports a slice of the real --slice feed (records of the
  watched vendors, --slice-size of them, rotating) as NVD would serve them modified now: each round changes
  real CVEs, so the worker has real deliveries to send while everything else runs.
At the end it waits for the deliveries to drain and prints: requests, errors (5xx apart), latency percentiles
per kind, deliveries written/delivered/failed/pending and what the receivers got, the RSS of the server's
process tree sampled every 30 s, the database size before and after, "database is locked" and tracebacks in
every log, and the load average. Exit status 1 on any error, lost delivery or lock.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import HOST, free_port, percentile  # noqa: E402
from _soak_alerts import ChangingSlice, MailSink, Receiver, setup_alerts, wait_for_drain  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"
API = (
    "/api/cve", "/api/cve?search=linux", "/api/cve?vendor=microsoft", "/api/cve?cvss=critical",
    "/api/cve?weakness=CWE-79", "/api/cve/CVE-2014-0160", "/api/cve?page=20", "/api/vendors",
    "/api/vendors/microsoft/products", "/api/weaknesses", "/api/organizations",
)  # fmt: skip
PAGES = (
    "/",
    "/cve",
    "/cve?vendor=microsoft",
    "/cve?search=buffer",
    "/cve/CVE-2014-0160",
    "/vendors?search=micro",
)
CVEWATCH = [sys.executable, "-m", "cvewatch"]
SLICE = CORPUS / "nvd-1.1-modified-history" / "nvdcve-1.1-modified.2024-01-02.c91dc2d.json.gz"
TROUBLE = ("database is locked", "Traceback", "OperationalError")  # counted in every log of the run
# One sync run that really reads and merges its feeds: the cursors are forgotten first (else "unchanged").
SYNC = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
django.setup()
from django.core.management import call_command
from cvewatch.sync.models import SyncSource
SyncSource.objects.filter(name__in=["kev", "nvd"]).update(cursor={}, last_success_at=None, last_run_at=None)
call_command("sync", "kev", "nvd")
"""


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([*CVEWATCH, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"cvewatch {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def tree_rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, AttributeError):
            continue
    return total / 1024


def logged_in(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "no CSRF token on /login"
    done = client.post("/login", data={"username": username, "password": password,
                                        "csrfmiddlewaretoken": token.group(1)})  # fmt: skip
    if done.status_code not in (200, 302) or "sessionid" not in client.cookies:
        raise SystemExit(f"login failed: {done.status_code}")
    return client


def database_size_mib() -> float:
    """The soak database's size: SQLite's file with its -wal and -shm, or PostgreSQL's pg_database_size."""
    from django.db import connection, connections

    try:
        if connection.vendor == "sqlite":
            name = Path(connection.settings_dict["NAME"])
            return sum(p.stat().st_size for p in name.parent.glob(f"{name.name}*")) / (1 << 20)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0] / (1 << 20)
    finally:
        connections.close_all()


# The per-request targets of docs/benchmarks.md: API lists 25 ms (bench/api_latency.py), pages 100 ms
# (bench/web_render.py).
SERVED_TARGETS_MS = {"api": 25.0, "page": 100.0}
_ACCESS_LINE = re.compile(
    r'"GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ "[^"]*" "[^"]*" (?P<micros>\d+)$'
)


def served_times(log: str, *, api: tuple[str, ...], pages: tuple[str, ...]) -> dict[str, list[float]]:
    """{kind: [ms]} of the soak's 200 answers, as the server's access log times them (cvewatch serve logs the
    worker's time per request in microseconds): the time spent serving, without the wait for a free worker.
    Each URL's own list is under the URL itself."""
    kinds = {**{url: "api" for url in api}, **{url: "page" for url in pages}}
    times: dict[str, list[float]] = defaultdict(list)
    for line in log.splitlines():
        if (found := _ACCESS_LINE.search(line)) and found["status"] == "200" and found["path"] in kinds:
            ms = int(found["micros"]) / 1000
            times[kinds[found["path"]]].append(ms)
            times[found["path"]].append(ms)
    return times


def trouble_in(text: str) -> dict[str, int]:
    return {marker: text.count(marker) for marker in TROUBLE if marker in text}


def main(argv: list[str]) -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--rate", type=float, default=0,
        help="requests/s sent by all clients together, on a fixed schedule (0: each client sends its next request "
        "as soon as it has the answer to the last, which saturates the server)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=float, default=20, help="seconds before the first memory reading")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sync-kev", default=str(CORPUS / "kev" / "known_exploited_vulnerabilities.json"))
    parser.add_argument("--sync-nvd", default=str(CORPUS / "nvd-1.1-modified-history"))
    parser.add_argument(
        "--sync-pause", type=float, default=0,
        help="seconds between the end of one sync run and the start of the next (0: back to back, the harshest)",
    )  # fmt: skip
    parser.add_argument("--projects", type=int, default=30, help="projects, each with a webhook")
    parser.add_argument(
        "--emails", type=int, default=3, help="of which this many also mail a confirmed address"
    )
    parser.add_argument(
        "--slice", default=str(SLICE), help="the NVD 1.1 feed the changing slice is taken from"
    )
    parser.add_argument("--slice-size", type=int, default=150, help="records re-imported changed per round")
    parser.add_argument("--slice-every", type=float, default=20, help="seconds between two rounds")
    parser.add_argument("--drain", type=float, default=180, help="seconds to wait for pending deliveries")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="cvewatch-soak-"))
    receiver, mail = Receiver(), MailSink(free_port())
    os.environ.update(
        DJANGO_SETTINGS_MODULE="cvewatch.settings", CVEWATCH_LOG_LEVEL="WARNING",
        CVEWATCH_ALLOW_PRIVATE_WEBHOOKS="true",  # the receivers listen on 127.0.0.1
        CVEWATCH_EMAIL_URL=mail.url, CVEWATCH_EMAIL_FROM="soak@cvewatch.example",
        # serve's own job worker sends the alerts and runs its scheduled syncs, from the local feeds only
        CVEWATCH_WORKER="internal", CVEWATCH_SOURCES="kev,nvd",
        CVEWATCH_KEV_URL=args.sync_kev, CVEWATCH_NVD_URL=args.sync_nvd,
        CVEWATCH_API_RATE_LIMIT="off",  # one token sends the whole load
    )  # fmt: skip
    username, password = f"soak-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    os.environ["CVEWATCH_PASSWORD"] = password
    cli("createuser", username)
    org = f"soak-{secrets.token_hex(3)}"
    cli("org", "create", org, "--owner", username)
    token = cli("token", "create", org, "soak")
    import django

    django.setup()
    vendors = setup_alerts(org_name=org, projects=args.projects, emails=args.emails, receiver=receiver)
    changing = ChangingSlice(Path(args.slice), vendors=vendors, size=args.slice_size, workdir=work)
    api = (*API, f"/api/organizations/{org}", f"/api/organizations/{org}/projects",
           f"/api/organizations/{org}/projects/soak-p0/cve")  # fmt: skip
    pages = (*PAGES, f"/org/{org}/projects/soak-p0", f"/org/{org}/projects/soak-p1/deliveries")
    size_before = database_size_mib()
    load_before = os.getloadavg()

    port = free_port()
    base = f"http://{HOST}:{port}"
    server_log = work / "serve.log"
    with server_log.open("wb") as log:
        server = subprocess.Popen(
            [*CVEWATCH, "serve", "--bind", f"{HOST}:{port}", "--workers", str(args.workers),
             "--threads", str(args.threads)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    stop = threading.Event()
    syncs: list[str] = []
    imports: list[str] = []
    changes: list[int] = []
    side_trouble: dict[str, int] = defaultdict(int)
    rss: list[tuple[float, float]] = []
    loads: list[float] = []
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    server_errors = 0
    resets = [0]
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{base}/api/cve", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not come up") from None
                time.sleep(0.3)

        def note(done: subprocess.CompletedProcess[str]) -> None:
            with lock:
                for marker, count in trouble_in(done.stdout + done.stderr).items():
                    side_trouble[marker] += count

        def sync_loop() -> None:
            while not stop.is_set():
                if syncs and stop.wait(args.sync_pause):
                    break
                done = subprocess.run([sys.executable, "-c", SYNC], capture_output=True, text=True)
                note(done)
                summary = " / ".join(
                    line for line in done.stdout.splitlines() if line.startswith(("kev", "nvd"))
                )
                syncs.append(f"exit {done.returncode}: {summary or done.stderr.strip()[-300:]}")

        def import_loop() -> None:
            while not stop.wait(args.slice_every):
                path = changing.next_file()
                began = time.monotonic()
                done = subprocess.run([*CVEWATCH, "import", str(path)], capture_output=True, text=True)
                note(done)
                took = time.monotonic() - began
                said = [
                    line.strip()
                    for line in done.stdout.splitlines()
                    if line.startswith(("  CVEs", "  changes"))
                ]
                if found := re.search(r"changes\s+([\d,]+) recorded", done.stdout):
                    changes.append(int(found.group(1).replace(",", "")))
                imports.append(
                    f"exit {done.returncode} in {took:.1f} s: {'; '.join(said) or done.stderr[-300:]}"
                )
                path.unlink(missing_ok=True)

        def sample_loop() -> None:
            while not stop.wait(30):
                rss.append((time.monotonic() - started, tree_rss_mib(server.pid)))
                loads.append(os.getloadavg()[0])

        # Each thread is a person with a session of their own. They sign in one after the other before the
        # clock starts: 32 password hashes at once (PBKDF2, about 0.3 s of CPU each) on two shared cores
        # would time out at the client and say nothing about the rest. Each sign-in is timed and reported.
        sessions: list[httpx.Client] = []
        logins: list[float] = []
        while len(sessions) < args.concurrency:
            began = time.perf_counter()
            try:
                sessions.append(logged_in(base, username, password))
                logins.append(time.perf_counter() - began)
            except (httpx.HTTPError, SystemExit) as exc:  # an error like any other; the next try goes on
                errors.append(f"/login: {type(exc).__name__}: {exc}")
                if len(errors) > 3 * args.concurrency:
                    raise SystemExit(f"signing in fails again and again: {errors[-1]}") from None

        def traffic(number: int) -> None:
            nonlocal server_errors
            web = sessions[number]
            bearer = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
            mix = [("api", bearer, url) for url in api] + [("page", web, url) for url in pages]
            index = number
            # With --rate, client `number` sends its k-th request at clock + (k * concurrency + number) / rate,
            # and its latency counts from that moment: a late answer delays the next send, and the delay is
            # counted (no coordinated omission).
            interval = args.concurrency / args.rate if args.rate else 0.0
            scheduled = clock + number / args.rate if args.rate else 0.0
            while not stop.is_set():
                kind, client, url = mix[index % len(mix)]
                index += 1
                if interval:
                    if (wait := scheduled - time.perf_counter()) > 0 and stop.wait(wait):
                        break
                    began, scheduled = scheduled, scheduled + interval
                else:
                    began = time.perf_counter()
                try:
                    try:
                        status = client.get(url).status_code
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # gunicorn closes a keep-alive connection idle for 5 s; a request sent on it as it closes
                        # is reset. A browser sends it again on a new connection, and so does this, once:
                        # counted, and a server that is really failing fails the second time too.
                        with lock:
                            resets[0] += 1
                        status = client.get(url).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    if status == 200:
                        latencies[kind].append((time.perf_counter() - began) * 1000)
                    else:
                        errors.append(f"{url}: HTTP {status}")
                        server_errors += status >= 500

        threads = [threading.Thread(target=sync_loop), threading.Thread(target=import_loop)]
        threads += [threading.Thread(target=traffic, args=(n,)) for n in range(args.concurrency)]
        sampler = threading.Thread(target=sample_loop, daemon=True)
        started, clock = time.monotonic(), time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        rss_start = tree_rss_mib(server.pid)
        sampler.start()
        time.sleep(max(0.0, args.minutes * 60 - args.warmup))
        rss_end = tree_rss_mib(server.pid)
        stop.set()
        elapsed = time.monotonic() - started  # the load's time: the sync loop may take minutes to end its run
        for thread in threads:
            thread.join()
        drained_from = time.monotonic()
        deliveries = wait_for_drain(org, seconds=args.drain)
        drain_s = time.monotonic() - drained_from
        time.sleep(1)  # the last answers reach the receivers' counters
    finally:
        stop.set()
        log_at_stop = server_log.stat().st_size  # what follows is the server's shutdown
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        receiver.stop()
        mail.stop()
    size_after = database_size_mib()
    with server_log.open("rb") as log:
        serve_trouble = trouble_in(log.read(log_at_stop).decode(errors="replace"))
        shutdown_trouble = trouble_in(log.read().decode(errors="replace"))

    every = [ms for samples in latencies.values() for ms in samples]
    total = len(every) + len(errors)
    pace = f"paced at {args.rate:g} requests/s" if args.rate else "each client sending as soon as answered"
    print(f"soak: {elapsed:.0f} s, concurrency {args.concurrency} ({pace}), server {args.workers}x{args.threads} "
          f"with its job worker; load average {load_before[0]:.1f} at the start, {min(loads, default=0):.1f}–"
          f"{max(loads, default=0):.1f} during, {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print(f"logins     {len(logins)} sessions signed in one after the other before the clock: p50 "
          f"{percentile(logins, 50):.1f} s, max {max(logins, default=0):.1f} s")  # fmt: skip
    print(f"requests   {total:,} ({total / elapsed:.0f}/s), errors {len(errors)} (5xx: {server_errors}); "
          f"{resets[0]} idle keep-alive connections reset and the request sent again")  # fmt: skip
    for kind, samples in sorted(latencies.items()):
        print(f"{kind:5}      n={len(samples):,} p50 {percentile(samples, 50):.0f} ms  "
              f"p95 {percentile(samples, 95):.0f} ms  p99 {percentile(samples, 99):.0f} ms")  # fmt: skip
    print(f"all        p95 {percentile(every, 95):.0f} ms")
    if not args.rate and every:
        print(
            f"           (Little's law: {args.concurrency} clients that never pause, served at {total / elapsed:.0f}"
            f"/s, wait {args.concurrency / (total / elapsed) * 1000:.0f} ms on average: queueing, not serving)"
        )
    served = served_times(
        server_log.read_bytes()[:log_at_stop].decode(errors="replace"), api=api, pages=pages
    )
    for kind in ("api", "page"):
        samples = served.get(kind, [])
        print(f"served     {kind:5} n={len(samples):,} p50 {percentile(samples, 50):.1f} ms  "
              f"p95 {percentile(samples, 95):.1f} ms  p99 {percentile(samples, 99):.1f} ms  (worker time, access log; "
              f"target p95 {SERVED_TARGETS_MS[kind]:.0f} ms)")  # fmt: skip
    by_url = sorted((url for url in served if url not in SERVED_TARGETS_MS),
                    key=lambda url: -percentile(served[url], 95))  # fmt: skip
    print("by URL     worker time p50 / p95 ms: " + "; ".join(
        f"{url} {percentile(served[url], 50):.0f} / {percentile(served[url], 95):.0f}" for url in by_url))  # fmt: skip
    print(f"server RSS {rss_start:.0f} MiB after {args.warmup:.0f} s, {rss_end:.0f} MiB at the end: "
          f"growth {rss_end - rss_start:+.0f} MiB")  # fmt: skip
    print("RSS every 30 s: " + ", ".join(f"{mib:.0f}" for _, mib in rss) + " MiB")
    print(f"syncs      {len(syncs)} runs; last: {syncs[-1] if syncs else 'none finished'}")
    failed_imports = [line for line in imports if not line.startswith("exit 0")]
    print(f"imports    {len(imports)} rounds of {changing.size} changed records, {len(failed_imports)} failed, "
          f"{sum(changes):,} changes recorded; "
          f"last: {imports[-1] if imports else 'none finished'}")  # fmt: skip
    webhooks_delivered = deliveries.get("webhook delivered", 0)
    mails_delivered = deliveries.get("email delivered", 0)
    print(f"deliveries {deliveries['total']:,} written: {deliveries.get('delivered', 0):,} delivered, "
          f"{deliveries.get('failed', 0)} failed, {deliveries.get('pending', 0)} pending "
          f"(drained {drain_s:.0f} s after the load stopped)")  # fmt: skip
    print(f"receivers  webhooks: {len(receiver.ids):,} distinct ids verified ({webhooks_delivered:,} delivered), "
          f"{receiver.requests:,} requests, {receiver.bad_signatures} bad signatures; mails: {mail.alerts} alerts "
          f"({mails_delivered} delivered)")  # fmt: skip
    print(f"database   {size_before:,.0f} MiB before, {size_after:,.0f} MiB after")
    trouble = {**serve_trouble}
    for marker, count in side_trouble.items():
        trouble[marker] = trouble.get(marker, 0) + count
    print(
        f"logs       {', '.join(f'{k!r}: {v}' for k, v in trouble.items()) or 'no lock errors, no tracebacks'}"
        f"; at the server's shutdown: {', '.join(f'{k!r}: {v}' for k, v in shutdown_trouble.items()) or 'none'}"
    )
    for error in errors[:10]:
        print(f"error      {error}")
    for line in failed_imports[:5]:
        print(f"import     {line}")
    lost = (
        deliveries.get("failed", 0) + deliveries.get("pending", 0) + receiver.bad_signatures
        + (webhooks_delivered != len(receiver.ids)) + (mails_delivered > mail.alerts)
    )  # fmt: skip
    print(f"(work dir with serve.log: {work})")
    return 1 if errors or lost or trouble or failed_imports else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
