"""cvewatch demo: migrate, load the bundled real sample data once, make a login, print it, then serve.

An edge (it imports the importer and the organizations services, and ends by serving the web UI), so it
lives with the web app, not in core.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cvewatch.catalog.models import Cve, Vendor
from cvewatch.organizations.models import Organization
from cvewatch.organizations.services import accounts, organizations, projects
from cvewatch.web import demo_login

DEFAULT_SAMPLE_DIR = Path(__file__).resolve().parents[5] / "sample-data"
DEMO_USER = "admin"
DEMO_ORG = "demo"
DEMO_PROJECT = "production"
DEMO_VENDORS = ("apache", "microsoft", "google")


def cli_hint() -> str:
    """How the person who started this can run `cvewatch` again: `.venv/bin/cvewatch` when not on PATH.

    Prefixed with CVEWATCH_DATA_DIR when the data dir is not the default, so the command reaches this install.
    """
    program = Path(sys.argv[0]) if sys.argv and Path(sys.argv[0]).name == "cvewatch" else None
    if program is None or not program.is_file():
        program = Path(sys.executable).parent / "cvewatch"  # the venv's own, when run from Python
    program = program.absolute()
    on_path = shutil.which("cvewatch")
    shown = "cvewatch" if on_path and Path(on_path).absolute() == program else shown_path(program)
    if Path(settings.DATA_DIR).resolve() != Path("./var").resolve():
        shown = f"CVEWATCH_DATA_DIR={shlex.quote(str(settings.DATA_DIR))} {shown}"
    return shown


def shown_path(path: Path) -> str:
    """The path relative to the current directory when it is below it (`.venv/bin/cvewatch`), else absolute."""
    try:
        relative = path.absolute().relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(path))
    return shlex.quote(str(relative))


class Command(BaseCommand):
    summary = "a first look: sample data loaded, a login printed, served"  # its line in `cvewatch help`
    help = "Start cvewatch with real sample data loaded and a login printed (for a first look)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=None, help="HOST:PORT to serve on (default CVEWATCH_BIND)")
        parser.add_argument("--sample-dir", default=str(DEFAULT_SAMPLE_DIR), help="the sample data to load")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")

    def handle(self, *args, bind, sample_dir, no_serve, **options):
        database = settings.DATABASES["default"]
        where = shown_path(Path(database["NAME"])) if "sqlite" in database["ENGINE"] else "PostgreSQL"
        self.stdout.write(f"preparing the database ({where})...")
        self.stdout.flush()
        call_command("migrate", interactive=False, verbosity=0)
        if not Cve.objects.exists():
            sample = Path(sample_dir)
            if not sample.is_dir():
                raise CommandError(f"sample data folder not found: {sample}")
            self.stdout.write(f"loading the sample data from {sample} (a minute at most)...")
            self.stdout.flush()
            call_command("import", str(sample))
        password = self._demo_password()
        self._demo_organization()
        bind = bind or os.environ.get("CVEWATCH_BIND") or "127.0.0.1:8000"
        change = f"`{cli_hint()} changepassword {DEMO_USER}`"
        kept = (
            f"  (the initial password, kept in {shown_path(demo_login.path())}; change it with {change})\n"
            if not password.startswith("(")  # "(changed on ...)" or "(set earlier; not stored here)"
            else f"  (forgotten? set a new one with {change})\n"
        )
        self.stdout.write(
            "\n"
            f"  cvewatch is ready: http://{bind}/\n"
            f"  sign in as:  {DEMO_USER}\n"
            f"  password:    {password}\n"
            f"{kept}"
            f"  organization '{DEMO_ORG}' with project '{DEMO_PROJECT}' watching {', '.join(DEMO_VENDORS)}\n"
            f"{self._sync_line()}"
        )
        self.stdout.flush()
        if not no_serve:
            call_command("serve", bind=bind)

    def _sync_line(self) -> str:
        """Say what the job worker will follow, so a first run's downloads are no surprise."""
        if os.environ.get("CVEWATCH_WORKER", "internal") == "external":
            return "  no job worker here (CVEWATCH_WORKER=external): run `cvewatch worker` to follow the feeds\n"
        sources = ", ".join(settings.SYNC_SOURCES) or "none"
        return (
            f"  the job worker follows the upstream feeds every {settings.SYNC_INTERVAL} s: {sources}\n"
            "  (set CVEWATCH_SOURCES to choose, e.g. CVEWATCH_SOURCES=kev,epss,cwe for small downloads only)\n"
        )

    def _demo_password(self) -> str:
        """Create the demo superuser once with a random password kept (0600) in the data dir."""
        User = get_user_model()
        if User.objects.filter(username=DEMO_USER).exists():
            login = demo_login.read()
            if login is not None and login.username == DEMO_USER:
                return login.password
            return "(set earlier; not stored here)"
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(username=DEMO_USER, email="admin@localhost", password=password)
        accounts.mark_email_verified(user=admin)  # the operator's own account
        demo_login.write_initial(username=DEMO_USER, password=password)
        return password

    def _demo_organization(self) -> None:
        """An organization owned by the demo user with one subscribed project, created once."""
        if Organization.objects.filter(name=DEMO_ORG).exists():
            return
        owner = get_user_model().objects.get(username=DEMO_USER)
        organization = organizations.create_organization(name=DEMO_ORG, owner=owner)
        present = set(Vendor.objects.filter(name__in=DEMO_VENDORS).values_list("name", flat=True))
        projects.create_project(
            organization=organization,
            name=DEMO_PROJECT,
            description="Sample project: the vendors we run in production.",
            vendors=[v for v in DEMO_VENDORS if v in present],
            actor=owner,
        )
