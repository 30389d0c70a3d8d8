"""A short atheris run of every fuzz target (tests/fuzz/targets.py) finds nothing.

The long run is the same command with a longer -max_total_time (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SECONDS = 3
# Listed here rather than imported: importing the targets would instrument modules pytest already loaded.
TARGETS = ("cve5", "cwe", "epss", "kev", "nvd-api", "nvd-feed", "opencve-kb", "walker")


def _fuzz(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run", *args],
        cwd=cwd,  # where libFuzzer would write a crash-* file
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_target_is_run(tmp_path: Path) -> None:
    usage = _fuzz(cwd=tmp_path).stderr
    assert sorted(usage.strip().rpartition("targets: ")[2].split(", ")) == sorted(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_a_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    done = _fuzz(target, f"-max_total_time={SECONDS}", "-rss_limit_mb=1024", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done " in done.stderr and not list(tmp_path.glob("crash-*"))
