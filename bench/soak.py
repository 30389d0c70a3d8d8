"""Soak: mixed API and page traffic against a real `cvewatch serve` while a sync runs; errors, p95, memory.

    CVEWATCH_DATA_DIR=/path/to/loaded/data .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 32]

The data dir must hold a loaded, migrated install (SQLite, or PostgreSQL through CVEWATCH_DATABASE_URL).
The script creates a throw-away user, organization and API token, starts the server on a free loopback
port, and from --concurrency threads sends the API requests (Bearer token) and the web pages (a logged-in
session) round robin, for --minutes. Meanwhile `cvewatch sync` runs the local feeds of --sync-kev and
--sync-nvd again and again (what a scheduled sync does). Deliveries join the mix once the alerts app is there.
It prints requests, errors, latency percentiles per kind, and the RSS of the server's process tree after
the warm-up and at the end (the growth). Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loadgen import HOST, free_port, percentile  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"
API = (
    "/api/cve", "/api/cve?search=linux", "/api/cve?vendor=microsoft", "/api/cve?cvss=critical",
    "/api/cve?weakness=CWE-79", "/api/cve/CVE-2021-44228", "/api/cve?page=20", "/api/vendors",
    "/api/vendors/microsoft/products", "/api/weaknesses", "/api/organizations",
)  # fmt: skip
PAGES = ("/", "/cve", "/cve?vendor=microsoft", "/cve?search=buffer", "/cve/CVE-2021-44228", "/vendors?search=micro")
CVEWATCH = [sys.executable, "-m", "cvewatch"]
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=20, help="seconds before the first memory reading")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sync-kev", default=str(CORPUS / "kev" / "known_exploited_vulnerabilities.json"))
    parser.add_argument("--sync-nvd", default=str(CORPUS / "nvd-1.1-modified-history"))
    args = parser.parse_args(argv)

    username, password = f"soak-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    os.environ["CVEWATCH_PASSWORD"] = password
    cli("createuser", username)
    org = f"soak-{secrets.token_hex(3)}"
    cli("org", "create", org, "--owner", username)
    token = cli("token", "create", org, "soak")
    api = (*API, f"/api/organizations/{org}", f"/api/organizations/{org}/projects")

    port = free_port()
    base = f"http://{HOST}:{port}"
    server = subprocess.Popen(
        [*CVEWATCH, "serve", "--bind", f"{HOST}:{port}", "--workers", str(args.workers),
         "--threads", str(args.threads)],
        # The sync loop below is the sync; serve's own job worker would reach for the real upstreams.
        env={**os.environ, "CVEWATCH_LOG_LEVEL": "WARNING", "CVEWATCH_WORKER": "external",
             "CVEWATCH_API_RATE_LIMIT": "off"},  # one token sends the whole load
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stop = threading.Event()
    syncs: list[str] = []
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
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

        def sync_loop() -> None:
            env = {**os.environ, "CVEWATCH_KEV_URL": args.sync_kev, "CVEWATCH_NVD_URL": args.sync_nvd}
            while not stop.is_set():
                done = subprocess.run([sys.executable, "-c", SYNC], env=env, capture_output=True, text=True)
                summary = " / ".join(line for line in done.stdout.splitlines() if line.startswith(("kev", "nvd")))
                syncs.append(f"exit {done.returncode}: {summary or done.stderr.strip()[-300:]}")

        def traffic(number: int) -> None:
            web = logged_in(base, username, password)
            bearer = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
            mix = [("api", bearer, url) for url in api] + [("page", web, url) for url in PAGES]
            index = number
            while not stop.is_set():
                kind, client, url = mix[index % len(mix)]
                index += 1
                started = time.perf_counter()
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    if status == 200:
                        latencies[kind].append((time.perf_counter() - started) * 1000)
                    else:
                        errors.append(f"{url}: HTTP {status}")

        threads = [threading.Thread(target=sync_loop)]
        threads += [threading.Thread(target=traffic, args=(n,)) for n in range(args.concurrency)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        rss_start = tree_rss_mib(server.pid)
        time.sleep(max(0.0, args.minutes * 60 - args.warmup))
        rss_end = tree_rss_mib(server.pid)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    every = [ms for samples in latencies.values() for ms in samples]
    print(f"soak: {elapsed:.0f} s, concurrency {args.concurrency}, server {args.workers}x{args.threads}")
    print(f"requests   {len(every) + len(errors):,} ({(len(every) + len(errors)) / elapsed:.0f}/s), errors {len(errors)}")
    for kind, samples in sorted(latencies.items()):
        print(f"{kind:5}      n={len(samples):,} p50 {percentile(samples, 50):.0f} ms  "
              f"p95 {percentile(samples, 95):.0f} ms  p99 {percentile(samples, 99):.0f} ms")  # fmt: skip
    print(f"all        p95 {percentile(every, 95):.0f} ms")
    print(f"server RSS {rss_start:.0f} MiB after {args.warmup:.0f} s, {rss_end:.0f} MiB at the end: "
          f"growth {rss_end - rss_start:+.0f} MiB")  # fmt: skip
    print(f"syncs      {len(syncs)} runs; last: {syncs[-1] if syncs else 'none finished'}")
    for error in errors[:10]:
        print(f"error      {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
