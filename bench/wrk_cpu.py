"""CPU per request of list endpoints through `cvewatch serve` under `wrk -c8`: the web workers' and the
database server's, next to req/s — a figure the load of a shared machine skews far less than req/s.

    CVEWATCH_DATABASE_URL=postgres://…/copy CVEWATCH_DATA_DIR=DIR .venv/bin/python bench/wrk_cpu.py \
        [--duration 3] [--rounds 2] [URL ...]

`cvewatch serve` (2 web workers, no job worker, no rate limit) on the given database; for each URL, Basic
and organization token, `wrk -t2 -c8`; CPU is utime + stime from /proc of the serve tree and, on PostgreSQL,
of the server backends connected to this database (the server runs on this machine), divided by the
requests wrk completed. Run it on a copy: it creates (and deletes) a user, an organization and a token.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import HOST, free_port, stop_server, wait_until_up  # noqa: E402
from _quiet import cpu_seconds, tree_pids  # noqa: E402
from _speed_api import create_fixture, delete_fixture, warm_every_worker  # noqa: E402

URLS = [
    "/api/cve", "/api/cve?vendor=linux&product=linux_kernel", "/api/cve?cvss=critical", "/api/vendors",
    "/api/vendors/microsoft/products", "/api/weaknesses",
]  # fmt: skip


def backend_pids(database_url: str | None) -> list[int]:
    if not database_url:
        return []
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", default=URLS)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ["CVEWATCH_API_RATE_LIMIT"] = "off"
    os.environ["CVEWATCH_WORKER"] = "external"
    fixture = create_fixture()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--no-migrate", "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    database_url = os.environ.get("CVEWATCH_DATABASE_URL")
    try:
        wait_until_up(port, server, probe_url="/api/cve")
        warm_every_worker(port, fixture)  # each worker's first password verification, unmeasured
        print(f"engine={fixture['engine']} load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        print(f"{'url':45} {'auth':5} {'req/s':>7} {'web ms/req':>10} {'db ms/req':>9} {'sum':>6}")
        for _ in range(args.rounds):
            for url in args.urls:
                for auth in ("basic", "token"):
                    pids, backends = tree_pids(server.pid), backend_pids(database_url)
                    web, db = cpu_seconds(pids), cpu_seconds(backends)
                    out = subprocess.run(
                        ["wrk", "-t2", "-c8", f"-d{args.duration}s", "-H", f"Authorization: {fixture[auth]}",
                         f"http://{HOST}:{port}{url}"],
                        capture_output=True, text=True, check=True,
                    ).stdout  # fmt: skip
                    web, db = cpu_seconds(pids) - web, cpu_seconds(backends) - db
                    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
                    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
                    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                    web_ms, db_ms = web / max(done, 1) * 1000, db / max(done, 1) * 1000
                    print(
                        f"{url[:45]:45} {auth:5} {rate:7.0f} {web_ms:10.2f} {db_ms:9.2f} {web_ms + db_ms:6.2f}"
                        + (f"  {bad.group(1)} non-2xx" if bad else ""),
                        flush=True,
                    )
        print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end")
    finally:
        stop_server(server)
        delete_fixture(fixture["name"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
