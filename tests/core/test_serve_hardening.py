"""`cvewatch serve` as a real process tree (gunicorn) on a fresh SQLite data dir, against issue 10's items:
the data dir 0700 and its files 0600 (an old install's too), the control socket in the data dir and not in
~/.gunicorn, control characters escaped in the access log, unknown hosts refused, and the deployment
headers of an https install."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.mail import free_port
from tests.support.processes import clean_env, cvewatch

BASE_URL = "https://cve.example.com"


@dataclass
class Served:
    data: Path
    home: Path
    port: int
    log: Path

    def get(self, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    data, home = root / "data", root / "home"
    home.mkdir()
    env = {
        "CVEWATCH_DATA_DIR": str(data),
        "CVEWATCH_BASE_URL": BASE_URL,
        "CVEWATCH_WORKER": "external",  # the job worker, where serve has one, is not under test here
        "HOME": str(home),
    }
    assert cvewatch("migrate", env=env).returncode == 0
    # An install from before: everything readable by everyone.
    data.chmod(0o755)
    for file in data.iterdir():
        if file.is_file():
            file.chmod(0o644)
    port = free_port()
    log = root / "serve.log"
    process_env = clean_env(**env)
    process_env.pop("XDG_RUNTIME_DIR", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cvewatch", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--no-migrate"],
            env=process_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(data=data, home=home, port=port, log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                served.get("/login", {"Host": "cve.example.com"})
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("serve did not start:\n" + log.read_text()) from None
                time.sleep(0.2)
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_and_its_files_are_the_owners_only(served):
    assert _mode(served.data) == 0o700
    for name in ("cvewatch.sqlite3", "secret_key"):
        assert _mode(served.data / name) == 0o600, name
    # SQLite creates the WAL and SHM files (while a connection is open) with the database's mode, whatever
    # the umask of the process that opens it.
    previous = os.umask(0o022)
    try:
        connection = sqlite3.connect(served.data / "cvewatch.sqlite3")
        connection.execute("SELECT count(*) FROM django_migrations").fetchone()
        for name in ("cvewatch.sqlite3-wal", "cvewatch.sqlite3-shm"):
            assert _mode(served.data / name) == 0o600, name
        connection.close()
    finally:
        os.umask(previous)


def test_the_control_socket_is_in_the_data_dir_not_the_home_directory(served):
    socket_path = served.data / "gunicorn.ctl"
    # gunicorn starts its control server after spawning the workers, so a worker may answer first.
    deadline = time.monotonic() + 10
    while not socket_path.is_socket() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert socket_path.is_socket() and _mode(socket_path) == 0o600
    assert not (served.home / ".gunicorn").exists()


def test_a_username_with_a_newline_cannot_forge_an_access_log_line(served):
    credentials = base64.b64encode(b'evil\n127.0.0.1 - admin [x] "GET /forged HTTP/1.1" 200:pw').decode()
    response = served.get("/api/cve", {"Host": "cve.example.com", "Authorization": f"Basic {credentials}"})
    assert response.status == 401
    deadline = time.monotonic() + 10
    while "evil" not in served.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = served.log.read_text().splitlines()
    (line,) = [line for line in lines if "evil" in line]
    assert "evil\\x0a127.0.0.1 - admin" in line and "/api/cve" in line
    assert not any(line.startswith("127.0.0.1 - admin") for line in lines)


def test_only_the_base_urls_host_is_answered(served):
    assert served.get("/login", {"Host": "evil.example"}).status == 400
    assert served.get("/login", {"Host": f"127.0.0.1:{served.port}"}).status == 400
    assert served.get("/login", {"Host": "cve.example.com"}).status == 200


def test_an_https_install_sends_its_deployment_headers(served):
    response = served.get("/login", {"Host": "cve.example.com", "X-Forwarded-Proto": "https"})
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith("csrftoken=") and "Secure" in cookie


def test_each_access_log_line_ends_with_the_time_the_worker_spent_in_microseconds(served):
    response = served.get("/api/cve/CVE-0000-0001", {"Host": "cve.example.com"})
    assert response.status in (401, 404)
    deadline = time.monotonic() + 10
    while "GET /api/cve/CVE-0000-0001" not in served.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    (line,) = [line for line in served.log.read_text().splitlines() if "GET /api/cve/CVE-0000-0001" in line]
    micros = line.rsplit(" ", 1)[1]
    assert micros.isdigit() and 0 < int(micros) < 10_000_000, line
