"""The org, project and token commands via call_command on the real database."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role, TokenAction
from cvewatch.organizations.models import Organization, OrganizationToken, Project, TokenEvent
from tests.factories import ProductFactory, VendorFactory
from tests.support.people import make_user

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def acme(db) -> Organization:
    make_user("alice")
    run("org", "create", "acme", "--owner", "alice")
    return Organization.objects.get(name="acme")


def test_org_create_and_list(acme):
    assert selectors.membership_of(organization=acme, user=acme.members.get()).role == Role.OWNER
    make_user("bob")
    run("org", "add-member", "acme", "bob", "--role", "owner")
    out, _ = run("org", "list")
    assert out.startswith("acme\t2 members\t0 projects\towners: alice, bob")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "create", "bad name", "--owner", "alice"), "invalid organization name"),
        (("org", "create", "acme", "--owner", "alice"), "already exists"),
        (("org", "create", "other", "--owner", "nobody"), "no user named 'nobody'"),
        (("org", "create", "other"), "--owner"),
        (("org", "add-member", "acme", "alice"), "already a member"),
        (("org", "add-member", "ghost", "alice"), "no organization named 'ghost'"),
    ],
)
def test_org_errors(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert Organization.objects.count() == 1


def test_project_create_with_subscriptions(acme):
    apache = VendorFactory(name="apache")
    ProductFactory(vendor=apache, name="log4j")
    ProductFactory(vendor=apache, name="airflow")
    VendorFactory(name="microsoft")
    VendorFactory(name="linux")
    out, _ = run(
        "project", "create", "acme", "prod", "--description", "Production",
        "--vendor", "microsoft", "linux", "--product", "apache/log4j", "--product", "apache/airflow",
    )  # fmt: skip
    assert out.strip() == "created project acme/prod with 4 subscriptions"
    project = Project.objects.get(name="prod")
    assert project.description == "Production"
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["linux", "microsoft"],
        "products": {"apache": ["airflow", "log4j"]},
    }
    out, _ = run("project", "list", "acme")
    assert out.strip() == "prod\tactive\tlinux microsoft apache/airflow apache/log4j"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("project", "create", "acme", "prod"), "already has a project named 'prod'"),
        (("project", "create", "acme", "new_one"), "invalid project name"),
        (("project", "create", "acme", "web", "--vendor", "nosuch"), "unknown vendor: nosuch"),
        (
            ("project", "create", "acme", "web", "--product", "apache/nosuch"),
            "unknown product: apache/nosuch",
        ),
        (("project", "create", "acme", "web", "--product", "log4j"), "VENDOR/PRODUCT"),
        (("project", "create", "ghost", "web"), "no organization named 'ghost'"),
    ],
)
def test_project_errors_write_nothing(acme, args, message):
    ProductFactory(vendor=VendorFactory(name="apache"), name="log4j")
    run("project", "create", "acme", "prod")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert list(Project.objects.values_list("name", flat=True)) == ["prod"]


def test_token_create_prints_the_token_once_and_it_works(acme):
    out, err = run("token", "create", "acme", "ci", "--description", "CI job", "--expires", "2999-12-31")
    raw = out.strip()
    token = OrganizationToken.objects.get()
    assert raw.startswith(f"opc_org.{token.token_id}.") and len(raw) == 8 + 12 + 1 + 32
    assert "only time it is shown" in err and raw not in err
    assert token.created_by is None and token.description == "CI job"
    assert token.expires_at.isoformat() == "3000-01-01T00:00:00+00:00"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/organizations/acme").status_code == 200

    listing, _ = run("token", "list", "acme")
    assert token.token_id in listing and "active" in listing and raw.split(".")[2] not in listing

    out, _ = run("token", "revoke", "acme", token.token_id)
    assert out.strip() == f"revoked token {token.token_id} (ci) of acme"
    assert client.get("/api/organizations/acme").status_code == 401
    listing, _ = run("token", "list", "acme")
    assert "revoked" in listing
    assert list(TokenEvent.objects.order_by("id").values_list("action", "actor_label")) == [
        (TokenAction.CREATED, "cli"),
        (TokenAction.REVOKED, "cli"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "create", "acme", "ci", "--expires", "31/12/2999"), "invalid date"),
        (("token", "create", "acme", "ci", "--expires", "2001-01-01"), "in the future"),
        (("token", "create", "acme", "ci", "--expires", "9999-12-31"), "must be before 9999-01-01"),
        (("token", "create", "acme", " "), "must not be empty"),
        (("token", "create", "ghost", "ci"), "no organization named 'ghost'"),
        (("token", "revoke", "acme", "AAAAAAAAAAAA"), "has no token 'AAAAAAAAAAAA'"),
        (("token", "frobnicate", "acme"), "invalid choice"),
    ],
)
def test_token_errors(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not OrganizationToken.objects.exists() and not TokenEvent.objects.exists()


def test_token_create_refuses_a_name_already_in_use(acme):
    raw, _ = run("token", "create", "acme", "ci")
    token_id = raw.strip().split(".")[1]
    with pytest.raises(CommandError, match=rf"already has an active token named 'ci' \({token_id}\)"):
        run("token", "create", "acme", "CI")
    assert OrganizationToken.objects.count() == 1
    run("token", "revoke", "acme", token_id)
    run("token", "create", "acme", "ci")  # a revoked token's name is free again
    assert OrganizationToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_token_revoke_refuses_another_organizations_token_and_a_second_revocation(acme):
    make_user("bob")
    run("org", "create", "globex", "--owner", "bob")
    raw, _ = run("token", "create", "globex", "ci")
    token_id = raw.strip().split(".")[1]
    with pytest.raises(CommandError, match="has no token"):
        run("token", "revoke", "acme", token_id)
    run("token", "revoke", "globex", token_id)
    with pytest.raises(CommandError, match="already revoked"):
        run("token", "revoke", "globex", token_id)


def test_member_role_choice_is_validated(acme):
    make_user("carol")
    with pytest.raises(CommandError, match="invalid choice"):
        run("org", "add-member", "acme", "carol", "--role", "admin")
    run("org", "add-member", "acme", "carol")
    carol = get_user_model().objects.get(username="carol")
    assert selectors.membership_of(organization=acme, user=carol).role == Role.MEMBER


def test_org_invite_mails_the_link_through_smtp_and_prints_it(acme, smtp_server, settings, client):
    settings.BASE_URL = "https://cve.example.com"
    out, err = run("org", "invite", "acme", "New@Example.com", "--role", "owner")
    link = out.strip()
    assert link.startswith("https://cve.example.com/invitations/") and "\n" not in link
    assert "invited new@example.com to acme as owner; mail sent." in err
    (received,) = smtp_server.inbox.wait_for(1)
    assert received.recipients == ["new@example.com"]
    assert link in received.body and "The cvewatch operator invites you" in received.body
    # The printed link is the one that works.
    client.force_login(make_user("newbie", email="new@example.com"))
    assert client.post(link.removeprefix("https://cve.example.com"), {"action": "accept"}).status_code == 302
    assert selectors.membership_of(organization=acme, user=selectors.user_named(username="newbie")).role == "owner"


def test_org_invite_without_a_base_url_prints_the_path_and_sends_nothing(acme, smtp_server, settings):
    settings.BASE_URL = ""
    out, err = run("org", "invite", "acme", "new@example.com")
    assert out.strip().startswith("/invitations/")
    assert "no mail was sent (CVEWATCH_BASE_URL is not set)" in err
    assert smtp_server.inbox.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "invite", "ghost", "x@example.com"), "no organization named 'ghost'"),
        (("org", "invite", "acme", "not-an-address"), "'not-an-address' is not a valid e-mail address"),
        (("org", "invite", "acme", "alice@example.com"), "alice@example.com is already a member of 'acme'"),
        (("org", "invite", "acme", "x@example.com", "--role", "admin"), "invalid choice"),
    ],
)
def test_org_invite_refusals(acme, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not acme.invitations.exists()


def test_token_list_shows_the_status_the_model_computes(acme):
    for name in ("live", "old", "gone"):
        run("token", "create", "acme", name)
    OrganizationToken.objects.filter(name="old").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    gone = OrganizationToken.objects.get(name="gone")
    run("token", "revoke", "acme", gone.token_id)
    listing, _ = run("token", "list", "acme")
    statuses = {line.split("\t")[1]: line.split("\t")[2] for line in listing.splitlines()[1:]}
    assert statuses["live"] == "active" and statuses["old"] == "expired"
    assert statuses["gone"].startswith("revoked 20")


def test_createuser_vouches_for_the_address_it_is_given(monkeypatch):
    monkeypatch.setenv("CVEWATCH_PASSWORD", "a long enough pass phrase")
    run("createuser", "alice", "--email", "Alice@Example.com")
    run("createuser", "bob")
    alice = selectors.user_named(username="alice")
    assert selectors.email_is_verified(user=alice)
    assert not selectors.email_is_verified(user=selectors.user_named(username="bob"))
