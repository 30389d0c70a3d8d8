"""bench/speed.py's API part for one engine, in a process of its own (Django is set up for one database).

speed.py runs `python bench/_speed_api.py --runs N --duration S` with the engine's environment and reads
back one tab-separated line per measurement: FIGURE, engine, value, target, better (low|high).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import HOST, Client, free_port, percentile, run_load, stop_server, wait_until_up  # noqa: E402
from _quiet import Quiet  # noqa: E402

LIST_URLS = [
    "/api/cve", "/api/cve?page=50", "/api/cve?vendor=microsoft", "/api/cve?vendor=linux&product=linux_kernel",
    "/api/cve?cvss=critical", "/api/cve?weakness=CWE-79", "/api/vendors", "/api/vendors/microsoft/products",
    "/api/weaknesses",
]  # fmt: skip
PROJECT_VENDORS = ("microsoft", "linux", "google")
SEARCH_TERMS = ("buffer", "remote%20code%20execution", "microsoft", "CVE-2021-44", "log4j", "xss")
TIMEOUT_S = 60


def api_part(
    table: Any, *, engine: str, env: dict[str, str], runs: int, duration: float, quiet_timeout: float
) -> None:
    """Runs this module for one engine and adds its measurements to speed.py's table."""
    print(
        f"\n== api part, {engine}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True
    )
    proc = subprocess.Popen(
        [sys.executable, __file__, "--runs", str(runs), "--duration", str(duration),
         "--quiet-timeout", str(quiet_timeout)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("FIGURE\t"):
            _, figure, value, target, better = line.rstrip("\n").split("\t")
            table.add(figure, engine, float(value), target=target, better=better)
            print(f"  {figure}: {float(value):.1f} ({target or 'no target'})", flush=True)
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"{engine}: the API part failed ({proc.returncode})")


def emit(figure: str, value: float, target: str, better: str) -> None:
    print(f"FIGURE\t{figure}\t{value}\t{target}\t{better}", flush=True)


def create_fixture() -> dict[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from cvewatch.organizations.services import organizations, projects, tokens

    name = f"speed-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    user = get_user_model().objects.create_user(username=name, password=password)
    organization = organizations.create_organization(name=name, owner=user)
    for vendor in PROJECT_VENDORS:
        projects.create_project(organization=organization, name=vendor, vendors=[vendor], actor=user)
    _, token = tokens.create_token(organization=organization, name="speed", actor=user)
    engine = connection.vendor
    connection.close()
    basic = "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"name": name, "basic": basic, "token": f"Bearer {token}", "engine": engine}


def delete_fixture(name: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=name).delete()
    get_user_model().objects.filter(username=name).delete()


def throughput(port: int, authorization: str, url: str, *, duration: float) -> tuple[float, int]:
    """(requests/s at concurrency 8, non-200 answers): wrk when installed, else the Python load generator."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", "-c8", f"-d{max(1, round(duration))}s", "-H", f"Authorization: {authorization}",
             f"http://{HOST}:{port}{url}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        return rate, (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    result = run_load(
        port=port, authorization=authorization, urls=[url], concurrency=8, total=max(200, int(400 * duration)),
        timeout=TIMEOUT_S,
    )  # fmt: skip
    return result.requests_per_second, len(result.errors)


def warm_every_worker(port: int, fixture: dict[str, str]) -> None:
    """One keep-alive connection reaches one web worker: a worker the warm-up missed verified the password
    inside the first measured window, eight times at once for wrk's eight connections (0 req/s for seconds).
    Requests one after another on fresh connections reach every worker, each verifying once."""
    for _ in range(16):
        for auth in ("basic", "token"):
            Client(port, fixture[auth], timeout=TIMEOUT_S).get("/api/cve")


def p95(port: int, authorization: str, url: str, *, requests: int) -> tuple[float, set[int]]:
    client = Client(port, authorization, timeout=TIMEOUT_S)
    samples, statuses = [], set()
    for _ in range(requests):
        status, ms = client.get(url)
        samples.append(ms)
        statuses.add(status)
    return percentile(samples, 95), statuses


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument(
        "--quiet-timeout", type=float, default=20.0, help="longest wait for a quiet server (0: no wait)"
    )
    args = parser.parse_args(argv)
    os.environ["CVEWATCH_API_RATE_LIMIT"] = "off"  # one caller sends every request (as every bench here)
    fixture = create_fixture()
    org = f"/api/organizations/{fixture['name']}/projects"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--no-migrate", "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    failures = 0
    try:
        wait_until_up(port, server, probe_url="/api/cve")
        tool = "wrk" if shutil.which("wrk") else "Python threads (bench/_loadgen.py)"
        print(
            f"engine={fixture['engine']} server 127.0.0.1:{port}, 2 web workers + job worker; load by {tool}"
        )
        warm = Client(port, fixture["basic"], timeout=TIMEOUT_S)
        warm_token = Client(port, fixture["token"], timeout=TIMEOUT_S)
        for url in [*LIST_URLS, *(f"{org}/{v}/cve" for v in PROJECT_VENDORS)]:
            for _ in range(5):
                warm.get(url)
                warm_token.get(url)
        warm_every_worker(port, fixture)
        quiet = Quiet(server.pid, database_url=os.environ.get("CVEWATCH_DATABASE_URL"), timeout=args.quiet_timeout)
        if args.quiet_timeout > 0:
            quiet.settle()
        settled = quiet.wait if args.quiet_timeout > 0 else (lambda: None)
        for run in range(1, args.runs + 1):
            print(f"run {run}: load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
            for url in LIST_URLS:
                for auth in ("basic", "token"):
                    settled()
                    rate, errors = throughput(port, fixture[auth], url, duration=args.duration)
                    failures += errors
                    emit(f"list c8 req/s {auth:5} {url}", rate, ">= 500", "high")
            for vendor in PROJECT_VENDORS:
                url = f"{org}/{vendor}/cve"
                settled()
                value, statuses = p95(port, fixture["token"], url, requests=100)
                failures += statuses != {200}
                emit(f"project {vendor} CVE list p95 ms (c1)", value, "<= 15", "low")
                settled()
                rate, errors = throughput(port, fixture["token"], url, duration=args.duration)
                failures += errors
                emit(f"project {vendor} CVE list c8 req/s", rate, ">= 300", "high")
            settled()
            value, statuses = p95(port, fixture["token"], "/api/cve", requests=200)
            failures += statuses != {200}
            emit("/api/cve p95 ms (c1)", value, "<= 10", "low")
            worst = 0.0
            for term in SEARCH_TERMS:
                settled()
                value, statuses = p95(port, fixture["basic"], f"/api/cve?search={term}", requests=40)
                failures += statuses != {200}
                emit(f"search={term} p95 ms (c1)", value, "", "low")
                worst = max(worst, value)
            emit("search= p95 ms, worst of the terms (c1)", worst, "<= 50", "low")
        print(quiet.summary() if args.quiet_timeout > 0 else "did not wait for a quiet server (--quiet-timeout 0)")
        from serve_memory import Tree

        tree = Tree(server.pid)
        time.sleep(2)
        tree.sample()
        pss, rss = tree.totals()
        for row in tree.last:  # pid, name, PSS, RSS, then serve_memory's own breakdown
            print(f"  {row[0]:>7}  {row[1]:<24} PSS {row[2] / 1024:6.1f} MiB   RSS {row[3] / 1024:6.1f} MiB")
        emit(
            f"serve tree after the benchmarks ({len(tree.last)} processes) PSS MiB",
            pss / 1024,
            "<= 300",
            "low",
        )
        emit(f"serve tree after the benchmarks ({len(tree.last)} processes) RSS MiB", rss / 1024, "", "low")
    finally:
        stop_server(server)
        delete_fixture(fixture["name"])
    if failures:
        print(f"WARNING: {failures} requests did not answer 200")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
