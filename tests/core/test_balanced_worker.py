"""`cvewatch serve`'s web workers share new connections evenly (core/balanced_worker.py): eight keep-alive
connections opened at once land four on each of two workers, every time, and a stopped worker that holds
fewer connections delays a new one by GRACE_S at most."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.mail import free_port
from tests.support.processes import clean_env, cvewatch

from cvewatch.core.balanced_worker import STALE_S, Board


def test_the_board_waits_only_for_workers_taking_connections():
    board = Board(4)
    now = time.monotonic()
    board.connections[0], board.taking_at[0] = 3, now
    board.connections[1], board.taking_at[1] = 2, now
    assert not board.holds_fewest(0, now)  # slot 1 holds fewer and takes connections
    assert board.holds_fewest(1, now)
    board.connections[0] = 2
    assert board.holds_fewest(0, now) and board.holds_fewest(1, now)  # a tie: both take
    board.connections[0] = 3
    board.taking_at[1] = 0.0  # stopping, or at its cap
    assert board.holds_fewest(0, now)
    board.taking_at[1] = now - STALE_S - 1  # its loop has not reported: hung
    assert board.holds_fewest(0, now)
    board.taking_at[1] = now
    board.reset(1)  # dead: the master clears its slot
    assert board.holds_fewest(0, now)
    assert board.holds_fewest(0, STALE_S / 2)  # a slot never used, soon after the machine booted


@dataclass
class Served:
    port: int
    process: subprocess.Popen

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=,args=", "--ppid", str(self.process.pid)], capture_output=True, text=True, check=True
        ).stdout
        return sorted(int(line.split()[0]) for line in out.splitlines() if "cvewatch worker" not in line)

    def open(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.connect()
        return connection

    def held(self) -> dict[int, int]:
        """Per web worker, the established connections to the served port it holds (from /proc)."""
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(table):
                continue
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "01":
                    established.add(fields[9])
        counts = {}
        for pid in self.workers():
            inodes = set()
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            counts[pid] = len(inodes & established)
        return counts


def get(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/login")
    response = connection.getresponse()
    response.read()
    assert response.status == 200 and not response.will_close


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("balanced") / "data"
    env = {"CVEWATCH_DATA_DIR": str(data), "CVEWATCH_WORKER": "external"}
    assert cvewatch("migrate", env=env).returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cvewatch", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--no-migrate"],
        env=clean_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    served = Served(port=port, process=process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = served.open()
                get(connection)
                connection.close()
                if len(served.workers()) == 2:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.2)
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def settled(served: Served, total: int) -> dict[int, int]:
    deadline = time.monotonic() + 5
    while sum((counts := served.held()).values()) != total and time.monotonic() < deadline:
        time.sleep(0.05)
    return counts


def test_eight_connections_opened_at_once_split_four_and_four(served):
    for _ in range(5):
        connections = [served.open() for _ in range(8)]
        for connection in connections:
            get(connection)
        assert sorted(settled(served, 8).values()) == [4, 4]
        for connection in connections:
            connection.close()
        settled(served, 0)


def test_a_stopped_worker_holding_fewer_delays_a_new_connection_briefly(served):
    first = served.open()
    get(first)
    counts = settled(served, 1)
    idle = next(pid for pid, held in counts.items() if held == 0)
    os.kill(idle, signal.SIGSTOP)  # still reported as taking connections, for STALE_S
    try:
        started = time.monotonic()
        second = served.open()
        get(second)
        assert time.monotonic() - started < 1.0
        assert served.held()[idle] == 0  # the running worker took it, after its grace
    finally:
        os.kill(idle, signal.SIGCONT)
    first.close()
    second.close()
