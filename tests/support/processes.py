"""Helpers that run cvewatch in a fresh process under chosen CVEWATCH_* variables (settings are computed
once, at start, from the environment)."""

from __future__ import annotations

import os
import subprocess
import sys


def clean_env(**env: str) -> dict[str, str]:
    """The current environment without any CVEWATCH_* variable, plus these."""
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment would not have it.
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("CVEWATCH_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    # Background work at full priority, as before: under the suite's xdist workers a niced subprocess
    # would wait its turn and time out (core/priority.py; tests that check the niceness set it).
    return {**base, "CVEWATCH_BACKGROUND_NICE": "0", **env}


def settings_under(env: dict[str, str], *names: str) -> list[str]:
    """repr() of the named settings as a fresh process computes them from these variables."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'cvewatch.settings'; django.setup()\n"
        "from django.conf import settings\n"
        f"for name in {names!r}: print(repr(getattr(settings, name)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(**env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def cvewatch(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `cvewatch ARGS` to its end under these variables."""
    return subprocess.run(
        [sys.executable, "-m", "cvewatch", *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
