"""How evenly `cvewatch serve`'s two web workers share a client's eight keep-alive connections.

    CVEWATCH_DATA_DIR=… [CVEWATCH_DATABASE_URL=…] .venv/bin/python bench/balance.py [--windows 12] [URL]

Starts `cvewatch serve` (2 web workers, its job worker) on the loaded database, then runs --windows windows of
wrk at concurrency 8 (5 s each, a new set of connections each time, Basic and token in turn) on one URL
(default /api/cve?weakness=CWE-79; `{org}` in it stands for the bench organization, whose projects follow
microsoft, linux and google). For each window it prints req/s, the CPU seconds each process of the tree used
and the machine's idle share: a window whose connections all went to one worker shows one worker near 0 s
and the machine half idle (core/balanced_worker.py; docs/benchmarks.md). Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _speed_api as speed  # noqa: E402
from _loadgen import HOST, Client, free_port, wait_until_up  # noqa: E402
from list_cost import backend_cpu as cpu_seconds  # noqa: E402 - a process's CPU seconds, from /proc


def machine_times() -> list[int]:
    return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


def tree(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    children = [(int(line.split()[0]), "job" if "cvewatch worker" in line else "web") for line in out.splitlines()]
    return [(pid, "master"), *sorted(children, key=lambda child: child[1] != "web")]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default="/api/cve?weakness=CWE-79")
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    os.environ["CVEWATCH_API_RATE_LIMIT"] = "off"
    fixture = speed.create_fixture()
    url = args.url.replace("{org}", fixture["name"])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--no-migrate", "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, server, probe_url="/api/cve")
        speed.warm_every_worker(port, fixture)
        for auth in ("basic", "token"):
            for _ in range(20):
                Client(port, fixture[auth], timeout=speed.TIMEOUT_S).get(url)
        processes = tree(server.pid)
        print(f"{url} on {fixture['engine']}, load average {os.getloadavg()[0]:.2f}")
        print(f"{'window':>6} {'auth':5} {'req/s':>7}  CPU s: {' '.join(kind for _, kind in processes)}  idle")
        for window in range(1, args.windows + 1):
            auth = "basic" if window % 2 else "token"
            before = {pid: cpu_seconds(pid) for pid, _ in processes}
            times = machine_times()
            rate, errors = speed.throughput(port, fixture[auth], url, duration=args.duration)
            used = " ".join(f"{cpu_seconds(pid) - before[pid]:.1f}" for pid, _ in processes)
            delta = [b - a for a, b in zip(times, machine_times(), strict=True)]
            idle = 100 * (delta[3] + delta[4]) / (sum(delta) or 1)
            print(f"{window:6} {auth:5} {rate:7.1f}  {used}  {idle:.0f}%{'  errors: ' + str(errors) if errors else ''}")
            time.sleep(1)
    finally:
        speed.stop_server(server)
        speed.delete_fixture(fixture["name"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
