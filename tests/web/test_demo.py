from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cvewatch.catalog.models import Cve
from cvewatch.organizations.models import Organization, Project
from cvewatch.web import demo_login

SMALL_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "ingest" / "cve5"  # a few real records


@pytest.mark.django_db(transaction=True)
def test_demo_loads_the_real_sample_data_and_prints_a_working_login(tmp_path, settings, capsys, client):
    settings.DATA_DIR = tmp_path
    call_command("demo", no_serve=True)
    out = capsys.readouterr().out
    assert "sign in as:  admin" in out
    login_file = (tmp_path / "demo-login.txt").read_text()
    assert "This is the initial password" in login_file and "username: admin\n" in login_file
    password = demo_login.read().password
    assert f"password:    {password}" in out
    # The way to change it is a command that works from where ./scripts/run was started: the venv's
    # cvewatch (not on PATH), on this data dir.
    assert f"(the initial password, kept in {tmp_path / 'demo-login.txt'}; change it with " in out
    assert f"`CVEWATCH_DATA_DIR={tmp_path} .venv/bin/cvewatch changepassword admin`" in out
    assert (tmp_path / "demo-login.txt").stat().st_mode & 0o777 == 0o600
    # The first start says what the job worker will download, and how to choose.
    assert f"the job worker follows the upstream feeds every {settings.SYNC_INTERVAL} s: " in out
    assert "CVEWATCH_SOURCES" in out
    assert Cve.objects.count() > 4000
    assert Cve.objects.filter(cve_id__in=["CVE-2021-44228", "CVE-2022-22965"]).count() == 2
    project = Project.objects.get(organization__name="demo", name="production")
    assert sorted(project.vendors.values_list("name", flat=True)) == ["apache", "google", "microsoft"]
    assert client.login(username="admin", password=password)

    # A second start neither re-imports nor re-creates anything.
    cves = Cve.objects.count()
    call_command("demo", no_serve=True)
    assert Cve.objects.count() == cves
    assert Organization.objects.filter(name="demo").count() == 1
    assert f"password:    {password}" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_login_file_stops_claiming_a_password_once_it_changed(tmp_path, settings, capsys, client):
    settings.DATA_DIR = tmp_path
    call_command("demo", no_serve=True, sample_dir=str(SMALL_SAMPLE))
    login = demo_login.read()
    assert login is not None and login.username == "admin" and not login.changed
    capsys.readouterr()

    # Through the account page, as a person changes it.
    assert client.login(username="admin", password=login.password)
    response = client.post(
        "/account/password",
        {"old_password": login.password, "new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )
    assert response.status_code == 302
    text = (tmp_path / "demo-login.txt").read_text()
    assert login.password not in text and "a new long passphrase" not in text
    assert "was changed on" in text and "this file no longer holds it" in text
    assert (tmp_path / "demo-login.txt").stat().st_mode & 0o777 == 0o600
    assert demo_login.read().changed

    # The next start says so instead of printing a password that no longer works.
    call_command("demo", no_serve=True, sample_dir=str(SMALL_SAMPLE))
    out = capsys.readouterr().out
    assert "password:    (changed on " in out and "not stored)" in out
    assert "forgotten? set a new one with `" in out and "changepassword admin`" in out


@pytest.mark.django_db
def test_other_saves_and_other_users_leave_the_login_file_alone(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    User = get_user_model()
    admin = User.objects.create_user(username="admin", password="initial password")
    demo_login.write_initial(username="admin", password="initial password")
    before = (tmp_path / "demo-login.txt").read_text()
    admin.last_login = admin.date_joined
    admin.save()  # no password change: nothing to say
    admin.set_password("initial password")
    admin.save()  # the same password: the file is still true
    other = User.objects.create_user(username="olivia", password="x")
    other.set_password("y")
    other.save()
    assert (tmp_path / "demo-login.txt").read_text() == before
    admin.set_password("something else")
    admin.save()
    assert demo_login.read().changed


def test_an_older_login_file_holding_only_the_password_is_read(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    (tmp_path / "demo-login.txt").write_text("s3cret-from-before\n")
    assert demo_login.read() == demo_login.DemoLogin(username="admin", password="s3cret-from-before")
