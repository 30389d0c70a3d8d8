"""cvewatch backup PATH: a consistent copy of the live SQLite install (database and secret key) in PATH."""

from __future__ import annotations

from pathlib import Path

from cvewatch.core.backup import backup_install
from cvewatch.core.management.base import DomainCommand


class Command(DomainCommand):
    summary = "copy a live SQLite install (database, secret key) to a folder"  # its line in `cvewatch help`
    help = "Write a consistent copy of the running SQLite install (database and secret key) into a new directory."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a new (or empty) directory to write the backup into")

    def handle(self, *args, path: str, **options):
        result = backup_install(target=Path(path))
        self.stdout.write(f"backed up {result.database_bytes} bytes of database to {result.path}")
        if not result.key_included:
            self.stderr.write(
                "the secret key comes from CVEWATCH_SECRET_KEY and is not in the backup: keep that value with it"
            )
