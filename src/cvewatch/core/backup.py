"""Backups of a SQLite install: the database through SQLite's online backup API, and the secret key.

Without the secret key a restored database is worth little: API tokens, sessions and invitation links are
keyed by it. PostgreSQL installs use pg_dump/pg_restore plus the key (docs/operations.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cvewatch.core.errors import Conflict, InvalidInput

DATABASE_FILE = "cvewatch.sqlite3"
KEY_FILE = "secret_key"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = "running.lock"  # in the data dir: held (shared) by `cvewatch serve` while it runs
FORMAT = 1


@dataclass(frozen=True)
class BackupResult:
    path: Path
    database_bytes: int
    key_included: bool  # False when the key comes from CVEWATCH_SECRET_KEY (keep that value with the backup)


def backup_install(*, target: Path) -> BackupResult:
    """Writes a consistent copy of the live SQLite install into the new directory target."""
    database = _sqlite_database()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Conflict(f"{target} exists and is not an empty directory; a backup goes into a new one")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy = target / DATABASE_FILE
    # One step (pages=-1): the copy is one read transaction, a consistent snapshot however busy the
    # writers are (WAL: they go on while it is read). A multi-step copy restarts whenever a write lands.
    with _connect(database) as source, _connect(copy, create=True) as dest:
        source.backup(dest, pages=-1)
        if dest.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise InvalidInput(f"the copy in {copy} fails SQLite's integrity check")
    os.chmod(copy, 0o600)
    key_file = Path(settings.DATA_DIR) / KEY_FILE
    key_included = not os.environ.get("CVEWATCH_SECRET_KEY") and key_file.exists()
    if key_included:
        _write_private(target / KEY_FILE, key_file.read_bytes())
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {"file": DATABASE_FILE, "sha256": _sha256(copy), "bytes": copy.stat().st_size},
        "secret_key": KEY_FILE if key_included else "from CVEWATCH_SECRET_KEY: not in this backup",
    }
    _write_private(target / MANIFEST_FILE, json.dumps(manifest, indent=2).encode())
    return BackupResult(path=target, database_bytes=copy.stat().st_size, key_included=key_included)


def hold_running_lock() -> IO[bytes] | None:
    """Marks the install as running while the returned file stays open; `cvewatch restore` then refuses.

    A shared flock: any number of servers may hold it, forked workers inherit it, and the kernel drops it
    when the process dies however it dies. None when the data dir cannot hold the lock file.
    """
    try:
        lock = (Path(settings.DATA_DIR) / LOCK_FILE).open("ab")
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return None
    return lock


def _lock_held_elsewhere() -> bool:
    path = Path(settings.DATA_DIR) / LOCK_FILE
    if not path.exists():
        return False
    with path.open("ab") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def processes_using_database() -> list[int]:
    """Other processes holding the install's database open (from /proc: Linux), i.e. a running install."""
    database = _sqlite_database().resolve()
    watched = {str(database), f"{database}-wal", f"{database}-shm"}
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in watched for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to look at
            continue
    return sorted(found)


def restore_install(*, source: Path, force: bool = False) -> Path:
    """Brings a backup back into this install's data dir; refuses a running install unless force."""
    database = _sqlite_database()
    manifest = _manifest(source)
    copy = source / manifest["database"]["file"]
    if not copy.is_file() or _sha256(copy) != manifest["database"]["sha256"]:
        raise InvalidInput(f"{copy} is missing or does not match its checksum in {source / MANIFEST_FILE}")
    if not force and _lock_held_elsewhere():
        raise Conflict("the install is running (`cvewatch serve` holds its lock): stop it first, or pass --force")
    users = processes_using_database()
    if users and not force:
        pids = ", ".join(map(str, users))
        raise Conflict(
            f"the install is running (process {pids} has {database} open): stop it first, or pass --force"
        )
    connection.close()  # this process's own connection must not keep the old pages
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Through the backup API into the live file (not a file copy): the WAL and any open reader stay coherent.
    with _connect(copy) as backup, _connect(database, create=True) as live:
        backup.backup(live, pages=-1)
    os.chmod(database, 0o600)
    key = source / KEY_FILE
    if key.is_file():
        _write_private(Path(settings.DATA_DIR) / KEY_FILE, key.read_bytes())
    return database


def _sqlite_database() -> Path:
    if connection.vendor != "sqlite":
        raise InvalidInput(
            "cvewatch backup and restore handle the SQLite install; for PostgreSQL use pg_dump and pg_restore "
            "and keep the secret key (docs/operations.md)"
        )
    return Path(settings.DATABASES["default"]["NAME"])


def _connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    if not create and not path.is_file():
        raise InvalidInput(f"no database at {path}")
    return _Closing(sqlite3.connect(path, timeout=60))  # type: ignore[return-value]


class _Closing:
    """sqlite3.Connection's context manager commits but never closes; this one closes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _manifest(source: Path) -> dict:  # type: ignore[type-arg]
    try:
        manifest = json.loads((source / MANIFEST_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{source} is not a cvewatch backup (no readable {MANIFEST_FILE}: {exc})") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("database"), dict):
        raise InvalidInput(f"{source / MANIFEST_FILE} is not a cvewatch backup manifest of format {FORMAT}")
    return manifest


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)
