"""cvewatch backup / restore on a live SQLite install: imports and API traffic run while the backup is taken,
and the restored install still authenticates its API tokens (they are keyed by the secret key)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command
from tests.support.engines import ENGINE

DATA = Path(__file__).resolve().parent.parent / "data"
CVEWATCH = [sys.executable, "-m", "cvewatch"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "CVEWATCH_DATA_DIR": str(data_dir), "CVEWATCH_PASSWORD": "a-long-enough-password-1"}
    for name in ("CVEWATCH_DATABASE_URL", "CVEWATCH_SECRET_KEY"):
        env.pop(name, None)  # a private SQLite install whose key lives in its data dir
    return env


def _cli(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CVEWATCH, *args], env=_env(data_dir), capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, f"cvewatch {' '.join(args)}: {done.stderr}"
    return done


class Server:
    """A real `cvewatch serve` on a free local port."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"  # read back when a request fails
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*CVEWATCH, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
                env=_env(data_dir), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/api/cve", timeout=2)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline and self.process.poll() is None, "the server did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.stop()


def _status(server: Server, token: str) -> int:
    return httpx.get(f"{server.url}/api/cve", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def test_a_backup_taken_under_load_restores_with_working_tokens(tmp_path: Path, servers: list[Server]) -> None:
    live, backup, restored = tmp_path / "live", tmp_path / "backup", tmp_path / "restored"
    _cli(live, "migrate", "-v0")
    _cli(live, "createuser", "admin")
    _cli(live, "org", "create", "acme", "--owner", "admin")
    token = _cli(live, "token", "create", "acme", "ci").stdout.strip()
    server = Server(live)
    servers.append(server)
    assert _status(server, token) == 200

    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while not stop.is_set():
                statuses.append(client.get("/api/cve", params={"search": "linux"}).status_code)

    load = threading.Thread(target=traffic)
    load.start()
    importing = subprocess.Popen(
        [*CVEWATCH, "import", str(DATA / "cve5"), str(DATA / "nvd-1.1"), str(DATA / "opencve-kb")],
        env=_env(live), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # the import is under way
        assert importing.poll() is None
        took = _cli(live, "backup", str(backup))
    finally:
        assert importing.wait(timeout=300) == 0, importing.stderr.read() if importing.stderr else ""
        stop.set()
        load.join()
    assert "backed up" in took.stdout
    assert statuses and set(statuses) == {200}, (
        f"{len(statuses)} requests: {sorted(set(statuses))}; the server said:\n{server.log.read_text()[-3000:]}"
    )
    assert sorted(p.name for p in backup.iterdir()) == ["cvewatch.sqlite3", "manifest.json", "secret_key"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in backup.iterdir())
    server.stop()

    # A new machine: an empty data dir, restored from the backup. The token works because the key came along.
    _cli(restored, "restore", str(backup))
    again = Server(restored)
    servers.append(again)
    assert _status(again, token) == 200
    assert _status(again, token[:-4] + "xxxx") == 401

    # A running install is not overwritten unless told.
    refused = _cli(restored, "restore", str(backup), check=False)
    assert refused.returncode == 1 and "the install is running" in refused.stderr
    _cli(restored, "restore", str(backup), "--force")
    assert _status(again, token) == 200


def test_a_damaged_or_foreign_backup_is_refused(tmp_path: Path) -> None:
    live, backup = tmp_path / "live", tmp_path / "backup"
    _cli(live, "migrate", "-v0")
    _cli(live, "backup", str(backup))
    not_empty = _cli(live, "backup", str(backup), check=False)
    assert not_empty.returncode == 1 and "is not an empty directory" in not_empty.stderr
    with (backup / "cvewatch.sqlite3").open("r+b") as db:
        db.seek(200)
        db.write(b"\xff" * 16)
    damaged = _cli(live, "restore", str(backup), check=False)
    assert damaged.returncode == 1 and "does not match its checksum" in damaged.stderr
    foreign = _cli(live, "restore", str(tmp_path), check=False)
    assert foreign.returncode == 1 and "is not a cvewatch backup" in foreign.stderr


@pytest.mark.django_db
def test_the_commands_refuse_a_database_they_cannot_copy(tmp_path: Path) -> None:
    """On PostgreSQL they point to pg_dump; the suite's SQLite database lives in memory, not in a file."""
    if ENGINE == "postgresql":
        reason, commands = "for PostgreSQL use pg_dump and pg_restore", ("backup", "restore")
    else:
        reason, commands = "no database at file:memory", ("backup",)
    for command in commands:
        with pytest.raises(CommandError, match=reason):
            call_command(command, str(tmp_path / "b"))
