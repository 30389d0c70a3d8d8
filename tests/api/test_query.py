"""`q` (the query language) and `tag` on /api/cve and on a project's CVE list."""

from __future__ import annotations

from datetime import date

import pytest

from cvewatch.workbench.models import CveTag, UserTag
from cvewatch.workbench.services import query_subscriptions
from tests.factories import CveFactory
from tests.organizations.conftest import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def cves(db):
    return {
        "log4shell": CveFactory(
            cve_id="CVE-2021-44228",
            description="Apache Log4j2 JNDI remote code execution.",
            vendors=["apache", "apache$PRODUCT$log4j"],
            cvss31_score=10.0,
            kev_added=date(2021, 12, 10),
        ),
        "airflow": CveFactory(
            cve_id="CVE-2024-1000",
            description="Airflow remote code execution.",
            vendors=["apache", "apache$PRODUCT$airflow"],
            cvss31_score=7.2,
        ),
        "fortinet": CveFactory(
            cve_id="CVE-2024-2000", description="FortiOS heap overflow.", vendors=["fortinet"], cvss31_score=9.8
        ),
        "orphan": CveFactory(
            cve_id="CVE-2024-3000", description="A log4j-like flaw in an unnamed product.", cvss31_score=8.1
        ),
    }


@pytest.fixture
def acme(cves):
    return make_tenant("acme", "alice", "production", vendors=["fortinet"])


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["cve_id"] for item in response.json()["results"]]


def test_q_filters_cves_newest_first(acme):
    client = acme.basic_client()
    assert ids(client.get("/api/cve", {"q": "remote code AND cvss31>=9"})) == ["CVE-2021-44228"]
    assert sorted(ids(client.get("/api/cve", {"q": "vendor=apache OR kev:true"}))) == [
        "CVE-2021-44228",
        "CVE-2024-1000",
    ]
    assert ids(client.get("/api/cve", {"q": "CVE-2024-2000"})) == ["CVE-2024-2000"]


def test_q_combines_with_the_contract_parameters_by_and(acme):
    client = acme.token_client()
    assert ids(client.get("/api/cve", {"q": "remote", "vendor": "apache", "cvss": "critical"})) == ["CVE-2021-44228"]
    assert ids(client.get("/api/cve", {"q": "cvss31>=9", "search": "forti"})) == ["CVE-2024-2000"]
    assert ids(client.get("/api/cve", {"q": "kev:true", "weakness": "CWE-79"})) == []


@pytest.mark.parametrize(
    "q, detail",
    [
        ("epss>=150", "150 is out of range: 0 to 100 for epss (column 7)"),
        ("colour:red", "Unknown field 'colour'; fields: description, title, cve, cwe, vendor, product"),
        ('description:"remote', 'Unterminated quoted value: a closing " is missing (column 13)'),
        ("kev>1", "kev does not take '>'; it takes : = !: != (column 4)"),
        ("(kev:true", "The query ends too early; expected ')' (column 10)"),
    ],
)
def test_a_malformed_q_is_a_400_naming_the_problem(acme, q, detail):
    for client in (acme.basic_client(), acme.token_client()):
        for path in ("/api/cve", "/api/organizations/acme/projects/production/cve"):
            response = client.get(path, {"q": q})
            assert response.status_code == 400
            assert detail in response.json()["detail"]
            assert set(response.json()) == {"detail"}


def test_an_empty_q_is_no_filter(acme):
    assert len(ids(acme.basic_client().get("/api/cve", {"q": "  "}))) == 4


def test_tag_filter_for_a_person(acme, cves):
    tag = UserTag.objects.create(user=acme.user, name="watch")
    CveTag.objects.create(tag=tag, cve=cves["airflow"])
    client = acme.basic_client()
    assert ids(client.get("/api/cve", {"tag": "watch"})) == ["CVE-2024-1000"]
    assert ids(client.get("/api/cve", {"tag": "watch", "cvss": "critical"})) == []
    assert ids(client.get("/api/cve", {"q": "userTag:watch OR kev:true"})) == ["CVE-2024-1000", "CVE-2021-44228"]
    response = client.get("/api/cve", {"tag": "nope"})
    assert response.status_code == 404
    assert response.json() == {"detail": "No UserTag matches the given query."}
    response = client.get("/api/cve", {"q": "userTag:nope"})
    assert response.status_code == 400
    assert response.json() == {"detail": "No tag named 'nope' (column 9)"}


def test_tags_are_the_callers_own(acme, cves):
    other = make_tenant("globex", "bob", "web")
    tag = UserTag.objects.create(user=other.user, name="watch")
    CveTag.objects.create(tag=tag, cve=cves["airflow"])
    assert acme.basic_client().get("/api/cve", {"tag": "watch"}).status_code == 404
    assert ids(other.basic_client().get("/api/cve", {"tag": "watch"})) == ["CVE-2024-1000"]


def test_tokens_have_no_tags(acme):
    client = acme.token_client()
    assert len(ids(client.get("/api/cve", {"tag": "watch"}))) == 4  # ignored, as the contract says
    response = client.get("/api/cve", {"q": "userTag:watch"})
    assert response.status_code == 400
    assert response.json() == {"detail": "userTag is not available here (column 1)"}


def test_project_field_is_scoped_to_the_callers_organizations(acme):
    other = make_tenant("globex", "bob", "web", vendors=["apache"])
    assert ids(acme.token_client().get("/api/cve", {"q": "project:production"})) == ["CVE-2024-2000"]
    assert ids(acme.basic_client().get("/api/cve", {"q": "project:production"})) == ["CVE-2024-2000"]
    response = acme.token_client().get("/api/cve", {"q": "project:web"})  # globex's project: not visible
    assert response.status_code == 400
    assert response.json() == {"detail": "No project named 'web' (column 9)"}
    assert len(ids(other.token_client().get("/api/cve", {"q": "project:web"}))) == 2


def test_project_cve_list_takes_q_and_includes_query_subscriptions(acme):
    client = acme.token_client()
    base = "/api/organizations/acme/projects/production/cve"
    assert ids(client.get(base)) == ["CVE-2024-2000"]
    query_subscriptions.add_query_subscription(project=acme.project, query='description:"log4j"', actor=acme.user)
    body = client.get(base).json()
    assert body["count"] == 3
    assert [item["cve_id"] for item in body["results"]] == ["CVE-2024-3000", "CVE-2024-2000", "CVE-2021-44228"]
    assert ids(client.get(base, {"q": "kev:true"})) == ["CVE-2021-44228"]
    assert ids(client.get(base, {"q": "cvss31>=9", "search": "forti"})) == ["CVE-2024-2000"]
