import os
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from cvewatch.organizations.models import Organization
from cvewatch.organizations.services import members, organizations
from tests.support.mail import SmtpServer, start_smtp_server
from tests.support.people import FAST_PASSWORD_HASHERS, make_user

REPO = Path(__file__).resolve().parent.parent

# `cvewatch sync`/`import`/`worker` lower their CPU priority (core/priority.py). In the suite they stay at full
# priority: a niced subprocess would wait behind the xdist workers and time out, and a command called in
# process would renice the test worker itself for the rest of the run.
os.environ.setdefault("CVEWATCH_BACKGROUND_NICE", "0")
DATA = Path(__file__).resolve().parent / "data"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Under pytest-xdist (`-n N`, as ./scripts/test runs), each worker gets a data dir of its own.

    Settings are computed once, at start, from CVEWATCH_DATA_DIR, and the data dir holds state a process owns:
    the job queue's SQLite file (what tests enqueue, and what they count), the secret key, static files. The
    workers are started with CVEWATCH_DATA_DIR=<the data dir>/xdist-gwN, set here before they are spawned.
    PostgreSQL test databases are per process already (settings' TEST NAME has the pid; pytest-django adds
    _gwN), SQLite's test database is in memory, and live servers, SMTP and HTTP receivers take free ports.
    """
    base = Path(os.environ.get("CVEWATCH_DATA_DIR") or "./var").expanduser().resolve()
    for number, spec in enumerate(specs):
        spec.env["CVEWATCH_DATA_DIR"] = str(base / f"xdist-{spec.id or f'gw{number}'}")


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Failed-login and rate-limit counters live in the in-process `throttle` cache; no test inherits any.

    Never cleared when a test points it at Redis: clearing a Redis cache flushes the whole database.
    """

    def clear() -> None:
        # `default` holds the dashboard's statistics, keyed by the newest change id: rolled-back tests reuse ids.
        for alias in ("throttle", "default"):
            if isinstance(caches[alias], LocMemCache):
                caches[alias].clear()

    clear()
    yield
    clear()


@pytest.fixture(autouse=True)
def _background_at_full_priority(settings):
    settings.BACKGROUND_NICE = 0


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture
def data_dir() -> Path:
    """Copies of real records from ../shared/data/fixtures, kept in the repo."""
    return DATA


@pytest.fixture
def smtp_server(settings) -> SmtpServer:
    """A real local SMTP server; Django mails to it as CVEWATCH_EMAIL_URL=smtp://127.0.0.1:<port> says."""
    controller, server = start_smtp_server()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    settings.DEFAULT_FROM_EMAIL = "cvewatch@example.org"
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def owner(db):
    return make_user("olivia")


@pytest.fixture
def member(db):
    return make_user("max")


@pytest.fixture
def outsider(db):
    return make_user("eve")


@pytest.fixture
def org(owner, member) -> Organization:
    """acme: olivia owns it, max is a member; eve is an outsider."""
    organization = organizations.create_organization(name="acme", owner=owner)
    members.add_member(organization=organization, user=member, actor=owner)
    return organization
