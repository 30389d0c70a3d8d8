"""`cvewatch help`: cvewatch's own commands, grouped, one line each; `help COMMAND` works for any command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cvewatch import cli

DJANGO_INTERNALS = ("startproject", "startapp", "runserver", "makemigrations", "squashmigrations", "flush")


def cvewatch(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The real `cvewatch` entry point in a child process, on a data dir of the test's own."""
    env = {**os.environ, "CVEWATCH_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "from cvewatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def listed(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines() if line.startswith("  ")}


def test_help_lists_only_the_operators_commands_grouped(tmp_path):
    result = cvewatch("help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    shown = listed(text)
    for name in ("demo", "serve", "worker", "import", "sync", "createuser", "org", "project", "token",
                 "notification", "delivery", "backup", "restore", "migrate", "changepassword", "check"):  # fmt: skip
        assert name in shown, name
    assert not shown & set(DJANGO_INTERNALS)
    assert "Start:" in text and "Catalog data:" in text and "Alerts:" in text
    # One line each, short enough for a terminal.
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "import feed files, directories or bundles (format detected)\n" in text
    assert "'cvewatch help COMMAND' shows a command's options" in text and "help --all" in text
    # No arguments and --help print the same listing.
    assert cvewatch(data_dir=tmp_path).stdout == text
    assert cvewatch("--help", data_dir=tmp_path).stdout == text


def test_help_of_any_command_still_works_and_all_lists_djangos(tmp_path):
    token = cvewatch("help", "token", data_dir=tmp_path)
    assert token.returncode == 0 and "usage: cvewatch token" in token.stdout
    runserver = cvewatch("help", "runserver", data_dir=tmp_path)
    assert runserver.returncode == 0 and "usage: cvewatch runserver" in runserver.stdout
    everything = cvewatch("help", "--all", data_dir=tmp_path).stdout
    assert "startproject" in everything and "runserver" in everything
    unknown = cvewatch("frobnicate", data_dir=tmp_path)
    assert unknown.returncode == 1 and "Unknown command: 'frobnicate'" in unknown.stderr


@pytest.mark.parametrize(
    ("help_text", "summary"),
    [
        ("Serve cvewatch with gunicorn.", "serve cvewatch with gunicorn"),
        ("Import CVE data: CVE JSON 5 (cvelistV5), NVD JSON 1.1 feeds.", "import CVE data"),
        ("Run the job worker. Then more.", "run the job worker"),
        ("CVE data in " + "many words " * 20, "CVE data in " + "many words " * 4 + "many…"),
        ("", ""),
    ],
)
def test_summary_of_a_commands_help(help_text, summary):
    assert cli.summary_of(help_text) == summary


def test_commands_another_app_adds_are_listed_in_its_group(db):
    grouped = cli.operator_commands()
    names = [name for rows in grouped.values() for name, _ in rows]
    assert len(names) == len(set(names))
    assert list(grouped) == [group for group in cli.GROUPS if group in grouped]
