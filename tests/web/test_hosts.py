"""Item 1 of issue 10: password-reset link poisoning. Mailed links come from CVEWATCH_BASE_URL only, the
server answers only the hosts derived from it (or from the bind address of a local install), and an
unknown Host is a 400."""

from __future__ import annotations

import http.client

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.support.people import make_user
from tests.support.processes import cvewatch, settings_under

pytestmark = pytest.mark.django_db


def test_the_default_install_answers_only_its_bind_address_and_mails_links_to_it(tmp_path):
    hosts, base = settings_under({"CVEWATCH_DATA_DIR": str(tmp_path)}, "ALLOWED_HOSTS", "BASE_URL")
    assert hosts == "['127.0.0.1', 'localhost', '[::1]']"
    assert base == "'http://127.0.0.1:8000'"


def test_a_base_url_is_the_one_host_answered(tmp_path):
    env = {"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_BASE_URL": "https://CVE.example.com/"}
    hosts, base = settings_under(env, "ALLOWED_HOSTS", "BASE_URL")
    assert hosts == "['cve.example.com']" and base == "'https://CVE.example.com'"


def test_a_star_is_refused(tmp_path):
    done = cvewatch("check", env={"CVEWATCH_DATA_DIR": str(tmp_path), "CVEWATCH_ALLOWED_HOSTS": "*"})
    assert done.returncode != 0 and "CVEWATCH_ALLOWED_HOSTS may not be '*'" in done.stderr


def test_a_reset_asked_with_a_forged_host_is_a_400_and_mails_nothing(mailoutbox):
    make_user("olivia", email="olivia@example.com")
    assert "*" not in django_settings.ALLOWED_HOSTS
    response = Client().post("/password-reset", {"email": "olivia@example.com"}, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert mailoutbox == []


def test_a_reset_link_comes_from_the_base_url_whatever_the_host(settings, mailoutbox):
    settings.BASE_URL = "https://cve.example.com"
    settings.ALLOWED_HOSTS = ["cve.example.com", "internal.example", "testserver"]
    make_user("olivia", email="olivia@example.com")
    response = Client().post(
        "/password-reset", {"email": "olivia@example.com"}, HTTP_HOST="internal.example:8000"
    )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert "https://cve.example.com/password-reset/" in mail.body and "internal.example" not in mail.body


def test_without_a_public_url_a_reset_mails_nothing_but_answers_the_same(settings, mailoutbox):
    settings.BASE_URL = ""  # bound to every interface and no CVEWATCH_BASE_URL
    make_user("olivia", email="olivia@example.com")
    client = Client()
    known = client.post("/password-reset", {"email": "olivia@example.com"})
    unknown = client.post("/password-reset", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password-reset/sent"
    assert mailoutbox == []


def test_a_real_server_refuses_an_unknown_host(live_server):
    host, port = live_server.thread.host, live_server.thread.port
    for header, expected in (("evil.example", 400), (f"localhost:{port}", 200)):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/login", headers={"Host": header})
        assert connection.getresponse().status == expected
        connection.close()
