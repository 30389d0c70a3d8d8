"""Load generation shared by the benchmarks that drive a real `cvewatch serve` over loopback.

A script starts the server with `running_server`, sends requests with `Client` (one keep-alive connection)
and measures a concurrent run with `run_load`; the caller supplies the Authorization header value, so the
same code serves Basic and Bearer authentication.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

HOST = "127.0.0.1"  # loopback only: the benchmarks never expose the server


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile of `samples` (0 < p <= 100); `samples` is not modified."""
    ordered = sorted(samples)
    if not ordered:  # every request failed: the error count says so
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


class Client:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, port: int, authorization: str, *, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": authorization, "Accept": "application/json"}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, url: str) -> tuple[int, float]:
        """(HTTP status, milliseconds until the whole body was read)."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request("GET", url, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                return response.status, (time.perf_counter() - started) * 1000
            except (http.client.HTTPException, ConnectionError):
                # A worker may drop an idle keep-alive connection between requests; one retry on a fresh
                # connection tells that apart from a server that is really failing.
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def wait_until_up(port: int, server: subprocess.Popen[bytes], *, probe_url: str, timeout: float = 60) -> None:
    """Return once `probe_url` answers 401 without credentials; exit if the server dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"cvewatch serve exited with {server.returncode}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", probe_url)
            # 401 rather than any answer: it proves the URL routing and the authentication stack are loaded.
            if conn.getresponse().status == 401:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise SystemExit("cvewatch serve did not come up")


@contextmanager
def running_server(*, workers: int, threads: int, probe_url: str) -> Iterator[int]:
    """Run `cvewatch serve` on a free loopback port until the block ends; yields the port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"{HOST}:{port}", "--no-migrate",
         "--workers", str(workers), "--threads", str(threads)],
        # One caller sends every request: the API rate limit (bench/auth_overhead.py measures its cost) is off.
        env={**os.environ, "CVEWATCH_LOG_LEVEL": "WARNING", "CVEWATCH_API_RATE_LIMIT": "off"},
        # Nobody reads the server's logs here, and a pipe left undrained would block it once full.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port, server, probe_url=probe_url)
        yield port
    finally:
        stop_server(server, timeout=20)


def stop_server(server: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """SIGTERM a `cvewatch serve` started by a benchmark; SIGKILL it if it is not gone in `timeout` s."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()


@dataclass
class LoadResult:
    """What one concurrent run measured; the caller prints it in its own format."""

    total: int
    elapsed_s: float
    latencies_ms: list[float]  # one per request, in completion order; 0.0 where the request failed
    errors: list[str]

    @property
    def requests_per_second(self) -> float:
        return self.total / self.elapsed_s


def run_load(
    *, port: int, authorization: str, urls: list[str], concurrency: int, total: int, timeout: float
) -> LoadResult:
    """Send `total` GETs round robin over `urls` from `concurrency` threads; counts non-200 answers as errors."""
    # A shared counter rather than a fixed share per thread keeps every thread busy until the very end.
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker() -> None:
        client = Client(port, authorization, timeout=timeout)  # its own connection, as a real client has
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            url = urls[n % len(urls)]
            try:
                status, ms = client.get(url)
            except (OSError, http.client.HTTPException) as exc:  # counted once, and the worker goes on
                with lock:
                    errors.append(f"{url}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(ms)
                if status != 200:
                    errors.append(f"{url}: HTTP {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    return LoadResult(total, time.perf_counter() - started, latencies, errors)
