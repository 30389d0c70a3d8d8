"""The long schemathesis run: every API operation against `cvewatch serve`, with Basic and with a token.

The test suite keeps a short seeded run (tests/api/test_schema.py); this one generates many more cases
per operation, unseeded, over the real records of sample-data/ (about 4,200 CVEs), and must end with
0 server errors and 0 responses the schema at /api/schema does not describe.

    .venv/bin/python bench/schemathesis_long.py [--max-examples 200]
    CVEWATCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cvewatch_st .venv/bin/python bench/schemathesis_long.py

Without CVEWATCH_DATA_DIR or CVEWATCH_DATABASE_URL a throw-away SQLite data dir is used. The sample data
are imported once (an import of the same files again changes nothing); a throw-away user, organization,
project and token are created and deleted at the end. The server runs with the rate limit off.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare() -> dict[str, str]:
    """Migrate, import the sample data, create the callers; returns the Authorization header of each."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvewatch.settings")
    os.environ.setdefault("CVEWATCH_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from cvewatch.catalog.models import Cve
    from cvewatch.ingest.services import import_paths
    from cvewatch.organizations.services import organizations, projects, tokens

    call_command("migrate", verbosity=0, interactive=False)
    if Cve.objects.count() < 1000:
        started = time.monotonic()
        import_paths([REPO / "sample-data"])
        print(f"imported sample-data/ in {time.monotonic() - started:.0f} s: {Cve.objects.count()} CVEs")
    name = f"st-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    user = get_user_model().objects.create_user(username=name, password=password)
    organization = organizations.create_organization(name=name, owner=user)
    projects.create_project(organization=organization, name="web", actor=user, vendors=["apache", "microsoft"])
    _, secret = tokens.create_token(organization=organization, name="schemathesis", actor=user)
    return {
        "basic": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode(),
        "token": f"Bearer {secret}",
        "_user": name,
    }


def _cleanup(name: str) -> None:
    from django.contrib.auth import get_user_model

    from cvewatch.organizations.models import Organization

    Organization.objects.filter(name=name).delete()
    get_user_model().objects.filter(username=name).delete()


def _wait_for(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"cvewatch serve exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="cases per operation and phase")
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers")
    args = parser.parse_args()
    if not os.environ.get("CVEWATCH_DATA_DIR") and not os.environ.get("CVEWATCH_DATABASE_URL"):
        os.environ["CVEWATCH_DATA_DIR"] = tempfile.mkdtemp(prefix="cvewatch-schemathesis-")
    callers = _prepare()
    port = _free_port()
    # No job worker: this run is about the API, and a worker would follow the upstream feeds.
    env = {**os.environ, "CVEWATCH_API_RATE_LIMIT": "off", "CVEWATCH_LOG_LEVEL": "WARNING", "CVEWATCH_WORKER": "external"}
    server_log = Path(tempfile.gettempdir()) / f"cvewatch-schemathesis-{port}.log"
    print(f"serving on 127.0.0.1:{port}; server log: {server_log}")
    server = subprocess.Popen(
        [str(BIN / "cvewatch"), "serve", "--bind", f"127.0.0.1:{port}", "--no-migrate"],
        env=env,
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    failed = []
    try:
        schema_url = f"http://127.0.0.1:{port}/api/schema"
        _wait_for(schema_url, server)
        for caller in ("basic", "token"):
            started = time.monotonic()
            command = [
                str(BIN / "schemathesis"), "run", schema_url,
                "--checks", CHECKS,
                "--header", f"Authorization: {callers[caller]}",
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", str(args.max_examples),
                "--workers", str(args.workers),
                "--generation-database", "none",
                "--request-timeout", "60",
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
            tail = [line for line in result.stdout.splitlines() if line.strip()][-12:]
            print(f"=== {caller}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
            print("\n".join(tail))
            if result.returncode != 0:
                failed.append(caller)
                print(result.stdout[-8000:])
    finally:
        server.terminate()
        server.wait(timeout=30)
        _cleanup(callers["_user"])
    print("RESULT:", "failures with " + ", ".join(failed) if failed else "0 server errors, 0 schema violations")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
