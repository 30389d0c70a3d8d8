"""`cvewatch org invite` as the operator runs it: separate processes, configured by environment only.

The mail settings come from CVEWATCH_EMAIL_URL through settings.py (nothing in this process configures the
child), and the real local SMTP server (aiosmtpd) in this process receives the mail. The child always uses
its own throw-away SQLite data directory, whatever engine the suite runs on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.mail import start_smtp_server

CVEWATCH = Path(sys.executable).with_name("cvewatch")


def test_org_invite_in_its_own_process_mails_the_link_it_prints(tmp_path):
    controller, server = start_smtp_server()
    env = {
        "PATH": "/usr/bin:/bin",
        "CVEWATCH_DATA_DIR": str(tmp_path),
        "CVEWATCH_EMAIL_URL": server.url,
        "CVEWATCH_EMAIL_FROM": "cvewatch@example.org",
        "CVEWATCH_BASE_URL": "https://cve.example.com",
    }

    def cvewatch(*args: str, **extra: str) -> str:
        proc = subprocess.run(
            [str(CVEWATCH), *args], env={**env, **extra}, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    try:
        cvewatch("migrate", "-v0")
        cvewatch("createuser", "alice", CVEWATCH_PASSWORD="a long enough pass phrase")
        cvewatch("org", "create", "acme", "--owner", "alice")
        link = cvewatch("org", "invite", "acme", "bob@example.com", "--role", "owner").strip()
        (received,) = server.inbox.wait_for(1)
    finally:
        controller.stop()
    assert link.startswith("https://cve.example.com/invitations/")
    assert received.recipients == ["bob@example.com"]
    assert received.message["From"] == "cvewatch@example.org"
    assert received.message["Subject"] == "cvewatch: invitation to acme"
    assert link in received.body
