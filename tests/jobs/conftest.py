"""Real components for the job engine tests: `cvewatch` subprocesses on their own database and queue.

A subprocess cannot see the test's own database (in memory on SQLite, a rolled-back transaction on
PostgreSQL), so `cvewatch_env` gives each test module a data directory and a fresh database on the engine
under test (a SQLite file, or a new PostgreSQL database on the suite's server), migrated once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from django.conf import settings
from huey.storage import RedisStorage, SqliteStorage

from cvewatch.jobs.queue import huey
from tests.conftest import DATA

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own; every test uses its own queue name in it
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (several machines' database)")


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def children(pid: int) -> list[int]:
    """Live direct children of `pid`, read from /proc (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class CvewatchEnv:
    """The environment of `cvewatch` subprocesses sharing one data directory, database and queue."""

    data_dir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cvewatch", *args], env={**self.env, **env},
            capture_output=True, text=True, timeout=timeout,
        )

    def start(self, *args: str, log: str, **env: str) -> subprocess.Popen[bytes]:
        """Start `cvewatch ARGS` in the background, output to DATA_DIR/LOG; stopped at the end of the test."""
        out = open(self.data_dir / log, "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "cvewatch", *args], env={**self.env, **env}, stdout=out, stderr=out,
        )
        out.close()
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.data_dir / name).read_text(errors="replace")

    def queue_storage(self) -> SqliteStorage | RedisStorage:
        """The subprocesses' queue store, opened from this process."""
        name = self.env.get("CVEWATCH_QUEUE_NAME", "cvewatch")
        if self.env.get("CVEWATCH_REDIS_URL"):
            return RedisStorage(name=name, url=self.env["CVEWATCH_REDIS_URL"])
        return SqliteStorage(name=name, filename=str(self.data_dir / "jobs.sqlite3"))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        self.processes.clear()


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVEWATCH_")}
    env.update(
        CVEWATCH_DATA_DIR=str(data_dir),
        CVEWATCH_SECRET_KEY="jobs-tests-" + "x" * 40,
        CVEWATCH_LOG_LEVEL="INFO",
        CVEWATCH_BACKGROUND_NICE="0",  # at full priority under the suite's load (tests/support/processes.py)
        PYTHONUNBUFFERED="1",
        # A worker syncs what is due as it starts: never the real upstreams from a test (this machine may have
        # no network, and a connect that hangs would hold the worker past the shutdown these tests time).
        # Tests that sync something else set their own sources and URLs.
        CVEWATCH_SOURCES="kev",
        CVEWATCH_KEV_URL=str(Path(__file__).resolve().parent.parent / "data" / "kev" / "kev_subset.json"),
    )
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A data dir and a migrated database on the engine under test, shared by one test module."""
    data_dir = tmp_path_factory.mktemp("cvewatch-jobs")
    env = _base_env(data_dir)
    dbname = None
    if ON_POSTGRES:
        server = os.environ["CVEWATCH_DATABASE_URL"]
        dbname = f"test_cvewatch_jobs_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["CVEWATCH_DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + dbname
    done = subprocess.run([sys.executable, "-m", "cvewatch", "migrate", "-v0"], env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    try:
        yield data_dir, env
    finally:
        if dbname:
            with psycopg.connect(os.environ["CVEWATCH_DATABASE_URL"], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def cvewatch_env(migrated_database) -> Iterator[CvewatchEnv]:
    """Subprocess environment on the module's database with a queue of its own (SQLite file)."""
    data_dir, env = migrated_database
    queue = f"test-{uuid.uuid4().hex[:12]}"
    handle = CvewatchEnv(data_dir=data_dir, env={**env, "CVEWATCH_QUEUE_NAME": queue})
    try:
        yield handle
    finally:
        handle.stop_all()
        handle.queue_storage().flush_all()


@pytest.fixture
def redis_env(cvewatch_env) -> Iterator[CvewatchEnv]:
    """The same, with the queue on the local Redis (its own database and queue name, flushed after)."""
    cvewatch_env.env["CVEWATCH_REDIS_URL"] = REDIS_URL
    yield cvewatch_env
    # cvewatch_env's teardown flushes this queue's keys in Redis.


@pytest.fixture(params=["sqlite", "redis"])
def queue_store(request, tmp_path, monkeypatch) -> Iterator[SqliteStorage | RedisStorage]:
    """This process's Huey instance pointed at a fresh store of each kind: the SQLite file and real Redis."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        storage: SqliteStorage | RedisStorage = RedisStorage(name=name, url=REDIS_URL)
    else:
        storage = SqliteStorage(name=name, filename=str(tmp_path / "jobs.sqlite3"))
    monkeypatch.setattr(huey, "storage", storage)
    monkeypatch.setattr(huey, "name", name)
    try:
        yield storage
    finally:
        storage.flush_all()


def orm(env: CvewatchEnv, code: str) -> object:
    """Run `code` in `cvewatch shell` on the subprocesses' database; it sets `result`, returned as JSON."""
    done = env.run("shell", "-c", f"import json\n{code}\nprint(json.dumps(result, default=str))")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


class FeedServer:
    """A real local HTTP server answering like NVD's CVE API 2.0, slowly, with a gate a test can close."""

    def __init__(self, records: list[dict], *, page_size: int, delay: float) -> None:
        self.records, self.page_size, self.delay = records, page_size, delay
        self.requests: list[tuple[datetime | None, int]] = []  # (lastModStartDate, startIndex)
        self.hold: Callable[[datetime | None, int], bool] = lambda start, index: False
        self.held = threading.Event()  # set when a request is being held
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/rest/json/cves/2.0"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlparse(handler.path).query)
        start = _nvd_time(query["lastModStartDate"][0]) if "lastModStartDate" in query else None
        end = _nvd_time(query["lastModEndDate"][0]) if "lastModEndDate" in query else None
        index = int(query.get("startIndex", ["0"])[0])
        self.requests.append((start, index))
        if self.hold(start, index) and not self.held.is_set():
            self.held.set()
            self.release.wait(60)
        time.sleep(self.delay)
        chosen = [
            r for r in self.records
            if start is None or start <= _nvd_time(r["cve"]["lastModified"]) <= end  # type: ignore[operator]
        ]
        page = chosen[index:index + self.page_size]
        body = json.dumps({
            "resultsPerPage": len(page), "startIndex": index, "totalResults": len(chosen), "format": "NVD_CVE",
            "version": "2.0", "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000"),
            "vulnerabilities": page,
        }).encode()
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the worker was killed while we held its request
            pass


def _nvd_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace(".000+00:00", "+00:00")).astimezone(UTC)


def nvd_records(count: int, *, first: int, modified: datetime) -> list[dict]:
    """`count` NVD API 2.0 vulnerabilities made from a real record, each with its own CVE id."""
    template = json.loads((DATA / "nvd-api-2.0" / "CVE-2024-0056.json").read_text())
    records = []
    for n in range(first, first + count):
        cve = json.loads(json.dumps(template).replace("CVE-2024-0056", f"CVE-2099-{n:05d}"))
        stamp = (modified + timedelta(minutes=n)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000")
        cve["published"] = cve["lastModified"] = stamp
        records.append({"cve": cve})
    return records
