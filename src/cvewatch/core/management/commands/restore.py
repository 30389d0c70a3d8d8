"""cvewatch restore PATH [--force]: bring back a backup written by `cvewatch backup`."""

from __future__ import annotations

from pathlib import Path

from cvewatch.core.backup import restore_install
from cvewatch.core.management.base import DomainCommand


class Command(DomainCommand):
    summary = "bring a backup back into this install (stop it first)"  # its line in `cvewatch help`
    help = "Restore a backup written by `cvewatch backup` into this install (stop the install first)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup directory")
        parser.add_argument(
            "--force", action="store_true", help="restore even though a process has the database open"
        )

    def handle(self, *args, path: str, force: bool, **options):
        database = restore_install(source=Path(path), force=force)
        self.stdout.write(f"restored {database} from {path}; run `cvewatch migrate` if the backup is older")
