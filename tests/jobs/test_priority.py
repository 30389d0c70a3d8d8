"""Background work yields the CPU to the web (core/priority.py): `cvewatch worker` (serve's internal one),
`sync` and `import` run at CVEWATCH_BACKGROUND_NICE, while serve and its web workers keep full priority."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.jobs.conftest import children, cmdline, wait_for
from tests.jobs.test_serve import _start_serve

DATA = Path(__file__).resolve().parent.parent / "data"

# The command runs in this process, then prints the niceness it left behind.
_RUN_AND_SAY = (
    "import os, sys, django\n"
    "os.environ['DJANGO_SETTINGS_MODULE'] = 'cvewatch.settings'\n"
    "django.setup()\n"
    "from django.core.management import call_command\n"
    "call_command(*sys.argv[1:], stdout=open(os.devnull, 'w'))\n"
    "print('niceness', os.nice(0))\n"
)


def _niceness(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def _run(env, *command: str, nice: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_SAY, *command], env={**env.env, "CVEWATCH_BACKGROUND_NICE": nice},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_import_and_sync_lower_their_priority(cvewatch_env):
    base = _niceness(0)
    kev = str(DATA / "kev" / "kev_subset.json")
    assert _run(cvewatch_env, "import", kev, nice="7") == f"niceness {max(base, 7)}"
    assert _run(cvewatch_env, "sync", "kev", nice="9") == f"niceness {max(base, 9)}"
    assert _run(cvewatch_env, "sync", "kev", nice="0") == f"niceness {base}"  # 0: left as it is


def test_serves_job_worker_is_niced_and_its_web_workers_are_not(cvewatch_env):
    serve = _start_serve(cvewatch_env, CVEWATCH_BACKGROUND_NICE="10")
    job_workers = wait_for(
        lambda: [p for p in children(serve.pid) if f"worker --parent-pid {serve.pid}" in cmdline(p)],
        timeout=30, what="serve's job worker",
    )  # fmt: skip
    base = _niceness(0)
    # Niceness is taken in the worker's main thread as it starts; wait for it.
    wait_for(lambda: _niceness(job_workers[0]) == max(base, 10), timeout=30, what="the job worker to be niced")
    web = [p for p in children(serve.pid) if p not in job_workers]
    assert web and all(_niceness(p) == base for p in [serve.pid, *web])
