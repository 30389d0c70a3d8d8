"""API token pages: owners create (shown once), list, revoke with confirmation, audit; members 403; outsiders 404."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from cvewatch.organizations.models import OrganizationToken, TokenEvent
from cvewatch.organizations.services import members, projects, tokens

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"opc_org\.[A-Za-z0-9]{12}\.[A-Za-z0-9]{32}")


def test_create_shows_the_token_exactly_once(owner_client, org):
    page = owner_client.get("/org/acme/tokens")
    assert page.status_code == 200 and b"No tokens yet." in page.content

    posted = owner_client.post(
        "/org/acme/tokens", {"name": "siem", "description": "SIEM export", "expires": ""}
    )
    row = OrganizationToken.objects.get(name="siem")
    # Post/Redirect/Get: the POST answers with a redirect and no secret; the page it leads to shows it.
    assert posted.status_code == 302 and posted["Location"] == f"/org/acme/tokens/{row.token_id}/created"
    assert not TOKEN_RE.search(posted.content.decode())
    created = owner_client.get(posted["Location"])
    assert created.status_code == 200
    text = created.content.decode()
    shown = TOKEN_RE.findall(text)
    assert len(set(shown)) == 1
    full = shown[0]
    assert "it will not be shown again" in text and 'data-copy-target="#new-token-value"' in text
    assert created["Cache-Control"].startswith("max-age=0") and "no-store" in created["Cache-Control"]
    assert full.split(".")[1] == row.token_id
    assert full.split(".")[2] not in row.secret_hash  # only a hash of the secret is kept

    again = owner_client.get("/org/acme/tokens").content.decode()
    assert not TOKEN_RE.search(again)
    assert row.token_id in again and "olivia" in again and "never" in again and ">active<" in again


def test_token_works_on_the_api_then_revocation_needs_confirmation(owner_client, org):
    created = owner_client.post("/org/acme/tokens", {"name": "ci"}, follow=True)
    full = TOKEN_RE.search(created.content.decode()).group(0)
    token_id = full.split(".")[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {full}")
    assert api.get("/api/organizations/acme/projects").status_code == 200

    confirm = owner_client.get(f"/org/acme/tokens/{token_id}/revoke")
    assert confirm.status_code == 200 and b"stops working immediately" in confirm.content
    assert OrganizationToken.objects.get(token_id=token_id).revoked_at is None  # GET changes nothing

    done = owner_client.post(f"/org/acme/tokens/{token_id}/revoke", follow=True)
    assert b"was revoked" in done.content
    listing = done.content.decode()
    assert ">revoked<" in listing
    response = api.get("/api/organizations/acme/projects")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}

    audit = [(e.action, e.actor_label) for e in TokenEvent.objects.order_by("created_at", "id")]
    assert audit == [("created", "olivia"), ("revoked", "olivia")]
    assert listing.count("olivia") >= 3  # created by + two audit rows

    twice = owner_client.post(f"/org/acme/tokens/{token_id}/revoke", follow=True)
    assert b"already revoked" in twice.content


def test_validation_errors(owner_client, org):
    empty = owner_client.post("/org/acme/tokens", {"name": ""})
    assert empty.status_code == 400 and b"This field is required." in empty.content
    past = owner_client.post("/org/acme/tokens", {"name": "old", "expires": "2001-01-01"})
    assert past.status_code == 400 and b"the expiry date must be in the future" in past.content
    bad_date = owner_client.post("/org/acme/tokens", {"name": "x", "expires": "tomorrow"})
    assert bad_date.status_code == 400 and b"Enter a valid date." in bad_date.content
    last_day = owner_client.post("/org/acme/tokens", {"name": "forever", "expires": "9999-12-31"})
    assert last_day.status_code == 400 and b"the expiry date must be before 9999-01-01" in last_day.content
    assert not OrganizationToken.objects.exists()


def test_expiry_and_expired_status(owner_client, org, owner):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    owner_client.post("/org/acme/tokens", {"name": "short", "expires": tomorrow.isoformat()})
    token = OrganizationToken.objects.get(name="short")
    assert token.expires_at is not None and token.expires_at.date() == tomorrow + dt.timedelta(days=1)
    OrganizationToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert ">expired<" in owner_client.get("/org/acme/tokens").content.decode()


def test_member_gets_a_clear_403(member_client, org, owner):
    tokens.create_token(organization=org, name="existing", actor=owner)
    for response in (
        member_client.get("/org/acme/tokens"),
        member_client.post("/org/acme/tokens", {"name": "mine"}),
        member_client.get(f"/org/acme/tokens/{OrganizationToken.objects.get().token_id}/revoke"),
    ):
        assert response.status_code == 403
        assert b"Only owners of acme can see and manage its API tokens." in response.content
        assert b"existing" not in response.content
    assert OrganizationToken.objects.count() == 1


def test_outsider_gets_404_and_cannot_touch_other_tokens(
    outsider_client, owner_client, org, owner, other_org
):
    _, full = tokens.create_token(organization=org, name="acme-ci", actor=owner)
    token_id = full.split(".")[1]
    assert outsider_client.get("/org/acme/tokens").status_code == 404
    assert outsider_client.post(f"/org/acme/tokens/{token_id}/revoke").status_code == 404
    # The outsider's own organization's page does not accept acme's token id either.
    assert outsider_client.post(f"/org/globex/tokens/{token_id}/revoke").status_code == 404
    assert owner_client.get("/org/globex/tokens").status_code == 404
    assert OrganizationToken.objects.get(token_id=token_id).revoked_at is None


def test_pages_do_not_grow_queries_with_rows(owner_client, org, owner, member, django_assert_max_num_queries):
    # 12 tokens, owners, projects and audit rows: one query per row anywhere would blow the bound (7-10 today).
    from cvewatch.organizations.choices import Role
    from tests.support.people import make_user

    for n in range(12):
        user = make_user(f"user{n}")
        members.add_member(organization=org, user=user, role=Role.OWNER, actor=owner)
        _, _ = tokens.create_token(organization=org, name=f"t{n}", actor=user)
        projects.create_project(organization=org, name=f"p{n}", actor=user)
    for token in OrganizationToken.objects.all()[:6]:
        tokens.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    for path in ("/org/acme/tokens", "/org/acme/settings", "/org/acme/projects"):
        with django_assert_max_num_queries(12):
            assert owner_client.get(path).status_code == 200, path
    # The dashboard reads a digest per active project, for the first six only: with 12 projects it costs
    # what it costs with 6 (tests/web/test_dashboard_pages.py pins it).


def test_reloading_the_created_page_shows_no_secret_and_creates_no_token(owner_client, org):
    posted = owner_client.post("/org/acme/tokens", {"name": "siem"})
    first = owner_client.get(posted["Location"]).content.decode()
    assert len(set(TOKEN_RE.findall(first))) == 1
    for _ in range(2):  # a reload, and another
        again = owner_client.get(posted["Location"])
        text = again.content.decode()
        assert again.status_code == 200 and not TOKEN_RE.search(text)
        assert "was already shown" in text and "reloading created no new token" in text
        assert "no-store" in again["Cache-Control"]
    assert OrganizationToken.objects.count() == 1
    assert TokenEvent.objects.count() == 1
    # Nothing of the secret stays in the session once shown.
    assert not owner_client.session.get("cvewatch.unshown_token_secrets")


def test_the_same_form_sent_twice_leads_to_the_first_token(owner_client, org):
    first = owner_client.post("/org/acme/tokens", {"name": "siem"})
    second = owner_client.post("/org/acme/tokens", {"name": "siem"})  # a double click, before any display
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert TOKEN_RE.search(owner_client.get(first["Location"]).content.decode())
    # Once shown, sending the form again is refused on the name field: no second token.
    third = owner_client.post("/org/acme/tokens", {"name": "SIEM"})
    text = third.content.decode()
    assert third.status_code == 400 and "already has an active token named &#x27;siem&#x27;" in text
    assert "revoke that token first" in text and not TOKEN_RE.search(text)
    assert OrganizationToken.objects.count() == 1


def test_a_revoked_token_frees_its_name(owner_client, org, owner):
    token, _ = tokens.create_token(organization=org, name="ci", actor=owner)
    assert owner_client.post("/org/acme/tokens", {"name": "ci"}).status_code == 400
    tokens.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    again = owner_client.post("/org/acme/tokens", {"name": "ci"})
    assert again.status_code == 302
    assert OrganizationToken.objects.filter(name="ci").count() == 2
    # The page of the revoked token says so rather than offering to revoke it.
    shown = owner_client.get(f"/org/acme/tokens/{token.token_id}/created").content.decode()
    assert "was already shown" in shown and "revoked already" in shown


def test_created_page_is_for_owners_of_that_organization_only(
    owner_client, member_client, outsider_client, org, owner
):
    token, _ = tokens.create_token(organization=org, name="ci", actor=owner)
    path = f"/org/acme/tokens/{token.token_id}/created"
    assert member_client.get(path).status_code == 403
    assert outsider_client.get(path).status_code == 404
    assert owner_client.get("/org/acme/tokens/nosuchtoken0/created").status_code == 404
    assert owner_client.post(path).status_code == 405


def test_created_page_query_count_is_pinned(owner_client, org, owner, django_assert_num_queries):
    """The page a creation leads to, on its one display and on a reload, with several tokens and audit rows."""
    for n in range(5):
        tokens.create_token(organization=org, name=f"t{n}", actor=owner)
    posted = owner_client.post("/org/acme/tokens", {"name": "siem"})
    # Session and user, the user's organizations with their roles (also the switcher's), the token, the events
    # and tokens lists, and on the one display a session write (savepoint, update, release) that drops the
    # shown secret; a reload changes nothing in the session, so writes nothing.
    with django_assert_num_queries(9):
        assert TOKEN_RE.search(owner_client.get(posted["Location"]).content.decode())
    with django_assert_num_queries(6):  # a reload
        assert b"was already shown" in owner_client.get(posted["Location"]).content
