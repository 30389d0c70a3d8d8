import re
import subprocess
import sys
from pathlib import Path

import pytest

from cvewatch import config
from cvewatch.config import SETTINGS, ConfigError
from cvewatch.core.mail import smtp_settings_from_url

REPO = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_and_every_documented_setting_exists():
    doc = (REPO / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`(CVEWATCH_[A-Z_]+)`", doc))
    declared = {s.name for s in SETTINGS}
    assert declared <= documented
    assert documented - declared <= {"CVEWATCH_REQUIRE_POSTGRES"}


def test_every_variable_read_in_the_code_is_declared():
    used: set[str] = set()
    for path in (REPO / "src" / "cvewatch").rglob("*.py"):
        used |= set(re.findall(r"\"(CVEWATCH_[A-Z_]+)\"", path.read_text()))
    declared = {s.name for s in SETTINGS}
    # CVEWATCH_PASSWORD is the createuser input, not configuration.
    assert used - declared <= {"CVEWATCH_PASSWORD"}


@pytest.mark.parametrize("value,expected", [("true", True), ("1", True), ("off", False), ("", False)])
def test_env_bool(monkeypatch, value, expected):
    monkeypatch.setenv("CVEWATCH_DEBUG", value)
    assert config.env_bool("CVEWATCH_DEBUG") is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("CVEWATCH_DEBUG", "maybe")
    with pytest.raises(ConfigError, match="CVEWATCH_DEBUG"):
        config.env_bool("CVEWATCH_DEBUG")


@pytest.mark.parametrize("value", ["0", "ten", "100000000"])
def test_env_int_refuses_out_of_range(monkeypatch, value):
    monkeypatch.setenv("CVEWATCH_PAGE_SIZE", value)
    with pytest.raises(ConfigError, match="CVEWATCH_PAGE_SIZE"):
        config.env_int("CVEWATCH_PAGE_SIZE", maximum=1000)


def test_secret_key_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CVEWATCH_SECRET_KEY", raising=False)
    first = config.secret_key(tmp_path)
    assert len(first) >= 50
    assert config.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_short_secret_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CVEWATCH_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        config.secret_key(tmp_path)


def test_smtp_url_parsing():
    s = smtp_settings_from_url("smtp+tls://bob:p%40ss@mail.example.org")
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_USE_TLS"], s["EMAIL_HOST_PASSWORD"]) == (
        "mail.example.org", 587, True, "p@ss")
    with pytest.raises(ConfigError):
        smtp_settings_from_url("http://mail.example.org")


def test_cli_reports_bad_configuration_clearly(tmp_path):
    env = {"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_PAGE_SIZE": "lots", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "cvewatch", "check"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "CVEWATCH_PAGE_SIZE must be a whole number" in proc.stderr
