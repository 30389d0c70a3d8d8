import pytest
from django.core.management import call_command

from cvewatch.catalog.models import Cve
from cvewatch.organizations.models import Organization, Project


@pytest.mark.django_db(transaction=True)
def test_demo_loads_the_real_sample_data_and_prints_a_working_login(tmp_path, settings, capsys, client):
    settings.DATA_DIR = tmp_path
    call_command("demo", no_serve=True)
    out = capsys.readouterr().out
    assert "sign in as:  admin" in out
    password = (tmp_path / "demo-login.txt").read_text().strip()
    assert f"password:    {password}" in out
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
