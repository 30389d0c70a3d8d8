"""Services of the organizations app against the real database: every refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cvewatch.catalog import selectors as catalog_selectors
from cvewatch.catalog.filters import CveFilter
from cvewatch.organizations import selectors, services, tokens
from cvewatch.organizations.choices import Role, TokenAction
from cvewatch.organizations.errors import (
    DuplicateName,
    InvalidName,
    InvalidToken,
    InvalidValue,
    InvitationError,
    LastOwner,
    MembershipError,
    NotAllowed,
    TokenError,
    UnknownProduct,
    UnknownVendor,
)
from cvewatch.organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationToken,
    Project,
    ProjectProduct,
    ProjectVendor,
    TokenEvent,
)
from tests.factories import CveFactory, ProductFactory, VendorFactory
from tests.organizations.conftest import make_user

pytestmark = pytest.mark.django_db


# --- organizations and names ----------------------------------------------------------------------------


def test_create_organization_makes_the_creator_its_owner(owner):
    org = services.create_organization(name="acme-corp", owner=owner)
    assert Membership.objects.get(organization=org, user=owner).role == Role.OWNER
    assert list(selectors.organizations_for(caller=owner)) == [org]


@pytest.mark.parametrize(
    "name", ["", "  ", "acme corp", "acme_corp", "-acme", "acmé", "a/b", "x" * 65, "a.b"]
)
def test_invalid_organization_names_are_refused(owner, name):
    with pytest.raises(InvalidName):
        services.create_organization(name=name, owner=owner)
    assert Organization.objects.count() == 0


def test_duplicate_organization_name_is_refused_case_insensitively(owner):
    services.create_organization(name="acme", owner=owner)
    with pytest.raises(DuplicateName, match="already exists"):
        services.create_organization(name="ACME", owner=owner)
    assert Organization.objects.count() == 1
    assert Membership.objects.count() == 1


# --- roles and the last owner ---------------------------------------------------------------------------


def test_owner_promotes_and_demotes_members(org, owner, member):
    services.change_member_role(organization=org, user=member, role=Role.OWNER, actor=owner)
    assert selectors.is_owner(organization=org, user=member)
    # with two owners, the first one may now be demoted (by the other)
    services.change_member_role(organization=org, user=owner, role=Role.MEMBER, actor=member)
    assert not selectors.is_owner(organization=org, user=owner)


def test_members_cannot_change_roles_or_remove_others(org, owner, member, outsider):
    with pytest.raises(NotAllowed, match="only an owner"):
        services.change_member_role(organization=org, user=member, role=Role.OWNER, actor=member)
    with pytest.raises(NotAllowed, match="only an owner"):
        services.remove_member(organization=org, user=owner, actor=member)
    with pytest.raises(NotAllowed, match="not a member"):
        services.remove_member(organization=org, user=member, actor=outsider)
    assert Membership.objects.filter(organization=org).count() == 2


def test_the_last_owner_can_neither_be_demoted_nor_leave_nor_be_removed(org, owner, member):
    with pytest.raises(LastOwner):
        services.change_member_role(organization=org, user=owner, role=Role.MEMBER, actor=owner)
    with pytest.raises(LastOwner):
        services.leave_organization(organization=org, user=owner)
    with pytest.raises(LastOwner):
        services.remove_member(organization=org, user=owner, actor=None)
    assert selectors.is_owner(organization=org, user=owner)


def test_owner_removes_a_member_and_a_member_may_leave(org, owner, member, outsider):
    services.add_member(organization=org, user=outsider, actor=owner)
    services.remove_member(organization=org, user=member, actor=owner)
    services.leave_organization(organization=org, user=outsider)
    assert [m.user for m in selectors.members_of(organization=org)] == [owner]
    with pytest.raises(MembershipError, match="not a member"):
        services.remove_member(organization=org, user=member, actor=owner)


def test_unknown_role_and_duplicate_member_are_refused(org, owner, member):
    with pytest.raises(InvalidValue, match="unknown role"):
        services.change_member_role(organization=org, user=member, role="admin", actor=owner)
    with pytest.raises(MembershipError, match="already a member"):
        services.add_member(organization=org, user=member, actor=owner)


# --- invitations ----------------------------------------------------------------------------------------


def test_invitation_is_accepted_by_the_user_with_the_matching_email(org, owner):
    invitation, raw = services.invite_member(organization=org, email="New.Person@Example.com", actor=owner)
    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash != raw and raw not in invitation.token_hash
    assert list(selectors.pending_invitations(organization=org)) == [invitation]

    stranger = make_user("stranger", email="someone@example.com")
    with pytest.raises(InvitationError, match="another e-mail"):
        services.accept_invitation(token=raw, user=stranger)

    invitee = make_user("newbie", email="new.person@EXAMPLE.com")
    assert list(selectors.invitations_for_user(user=invitee)) == [invitation]
    membership = services.accept_invitation(token=raw, user=invitee)
    assert membership.role == Role.MEMBER and membership.organization == org
    with pytest.raises(InvitationError, match="already been accepted"):
        services.accept_invitation(token=raw, user=invitee)
    assert not selectors.pending_invitations(organization=org).exists()


def test_invitation_refusals(org, owner, member):
    with pytest.raises(NotAllowed):
        services.invite_member(organization=org, email="x@example.com", actor=member)
    with pytest.raises(InvalidValue, match="not a valid e-mail"):
        services.invite_member(organization=org, email="not-an-address", actor=owner)
    with pytest.raises(MembershipError, match="already a member"):
        services.invite_member(organization=org, email=member.email.upper(), actor=owner)
    with pytest.raises(InvitationError, match="not valid"):
        services.accept_invitation(token="made-up", user=member)
    assert Invitation.objects.count() == 0


def test_expired_revoked_replaced_and_declined_invitations_stop_working(org, owner):
    invitee = make_user("late", email="late@example.com")
    old, old_raw = services.invite_member(organization=org, email=invitee.email, actor=owner)
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(InvitationError, match="expired"):
        services.accept_invitation(token=old_raw, user=invitee)

    first, first_raw = services.invite_member(organization=org, email=invitee.email, actor=owner)
    second, second_raw = services.invite_member(
        organization=org, email=invitee.email, role=Role.OWNER, actor=owner
    )
    with pytest.raises(InvitationError, match="withdrawn"):
        services.accept_invitation(token=first_raw, user=invitee)

    services.revoke_invitation(invitation=second, actor=owner)
    with pytest.raises(InvitationError, match="withdrawn"):
        services.accept_invitation(token=second_raw, user=invitee)
    with pytest.raises(InvitationError, match="no longer pending"):
        services.revoke_invitation(invitation=second, actor=owner)

    third, third_raw = services.invite_member(
        organization=org, email=invitee.email, role=Role.OWNER, actor=owner
    )
    services.decline_invitation(token=third_raw, user=invitee)
    with pytest.raises(InvitationError):
        services.accept_invitation(token=third_raw, user=invitee)
    assert selectors.membership_of(organization=org, user=invitee) is None


def test_invitation_for_an_owner_role_makes_an_owner(org, owner):
    invitee = make_user("boss", email="boss@example.com")
    _, raw = services.invite_member(organization=org, email="boss@example.com", role=Role.OWNER, actor=owner)
    assert services.invitation_for_token(token=raw).organization == org
    services.accept_invitation(token=raw, user=invitee)
    assert selectors.is_owner(organization=org, user=invitee)


# --- projects and subscriptions -------------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    apache = VendorFactory(name="apache")
    return {
        "apache": apache,
        "fortinet": VendorFactory(name="fortinet"),
        "log4j": ProductFactory(vendor=apache, name="log4j"),
        "airflow": ProductFactory(vendor=apache, name="airflow"),
    }


def test_create_project_with_subscriptions(org, member, catalog):
    project = services.create_project(
        organization=org,
        name="production",
        description=" servers ",
        vendors=["Fortinet"],
        products=["apache/log4j", "apache$PRODUCT$airflow", ("apache", "log4j")],
        actor=member,
    )
    assert project.description == "servers" and project.active
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["fortinet"],
        "products": {"apache": ["airflow", "log4j"]},
    }


def test_project_refusals_write_nothing(org, owner, outsider, catalog):
    services.create_project(organization=org, name="prod", actor=owner)
    with pytest.raises(DuplicateName, match="already has a project"):
        services.create_project(organization=org, name="PROD", actor=owner)
    with pytest.raises(InvalidName):
        services.create_project(organization=org, name="my project", actor=owner)
    with pytest.raises(UnknownVendor, match="unknown vendors: nope, nada"):
        services.create_project(organization=org, name="web", vendors=["apache", "nope", "nada"], actor=owner)
    with pytest.raises(UnknownProduct, match="unknown product: apache/tomcat"):
        services.create_project(organization=org, name="web", products=["apache/tomcat"], actor=owner)
    with pytest.raises(UnknownProduct, match="VENDOR/PRODUCT"):
        services.create_project(organization=org, name="web", products=["log4j"], actor=owner)
    with pytest.raises(NotAllowed):
        services.create_project(organization=org, name="web", actor=outsider)
    assert list(Project.objects.values_list("name", flat=True)) == ["prod"]
    assert not ProjectVendor.objects.exists() and not ProjectProduct.objects.exists()


def test_same_project_name_in_two_organizations_is_fine(org, owner, outsider):
    other = services.create_organization(name="globex", owner=outsider)
    services.create_project(organization=org, name="prod", actor=owner)
    services.create_project(organization=other, name="prod", actor=outsider)
    assert Project.objects.filter(name="prod").count() == 2


def test_update_subscribe_unsubscribe_and_replace(org, owner, catalog):
    project = services.create_project(organization=org, name="prod", actor=owner)
    other = services.create_project(organization=org, name="dev", actor=owner)
    services.subscribe_project(project=project, vendors=["apache"], products=["apache/log4j"], actor=owner)
    services.subscribe_project(project=project, vendors=["apache"], actor=owner)  # idempotent
    with pytest.raises(UnknownVendor):
        services.subscribe_project(project=project, vendors=["fortinet", "ghost"], actor=owner)
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["apache"],
        "products": {"apache": ["log4j"]},
    }
    services.unsubscribe_project(project=project, products=["apache/log4j"], actor=owner)
    assert selectors.project_subscriptions(project=project) == {"vendors": ["apache"], "products": {}}
    services.set_project_subscriptions(
        project=project, vendors=["fortinet"], products=["apache/airflow"], actor=owner
    )
    assert selectors.project_subscriptions(project=project) == {
        "vendors": ["fortinet"],
        "products": {"apache": ["airflow"]},
    }
    services.update_project(project=project, description="new", active=False, actor=owner)
    project.refresh_from_db()
    assert (project.description, project.active) == ("new", False)
    with pytest.raises(DuplicateName):
        services.update_project(project=project, name="dev", actor=owner)
    services.delete_project(project=other, actor=owner)
    assert list(selectors.projects_of(organization=org)) == [project]


def test_cves_for_project_covers_vendor_and_product_subscriptions(org, owner, catalog):
    newest = CveFactory(vendors=["fortinet"], updated_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    via_product = CveFactory(
        vendors=["apache", "apache$PRODUCT$log4j"], updated_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    )
    CveFactory(
        vendors=["apache", "apache$PRODUCT$airflow"], updated_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    )
    CveFactory(vendors=["microsoft"], updated_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    project = services.create_project(organization=org, name="prod", actor=owner)
    assert list(selectors.cves_for_project(project=project)) == []
    services.subscribe_project(project=project, vendors=["fortinet"], products=["apache/log4j"], actor=owner)
    assert list(selectors.cves_for_project(project=project)) == [newest, via_product]
    services.subscribe_project(project=project, vendors=["apache"], actor=owner)
    assert [c.cve_id for c in selectors.cves_for_project(project=project)] == [
        c.cve_id
        for c in sorted(selectors.cves_for_project(project=project), key=lambda c: c.updated_at, reverse=True)
    ]
    assert selectors.cves_for_project(project=project).count() == 3


# --- API tokens -----------------------------------------------------------------------------------------


def test_token_has_the_contract_format_and_only_a_hash_is_stored(org, owner):
    token, raw = services.create_token(organization=org, name="ci", description="GitHub Actions", actor=owner)
    prefix, token_id, secret = raw.split(".")
    assert prefix == "opc_org" and token_id == token.token_id
    assert (
        len(token_id) == 12
        and len(secret) == 32
        and (token_id + secret).isalnum()
        and (token_id + secret).isascii()
    )
    stored = OrganizationToken.objects.get(pk=token.pk)
    assert stored.secret_hash != secret and secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert stored.secret_hash == tokens.hash_secret(secret)
    # nothing else on the row holds the secret either
    assert all(secret not in str(getattr(stored, f.attname)) for f in OrganizationToken._meta.concrete_fields)
    assert services.authenticate_token(raw=raw).organization == org


def test_tokens_are_random(org, owner):
    raws = {services.create_token(organization=org, name=f"t{i}", actor=owner)[1] for i in range(5)}
    assert len(raws) == 5 and len({r.split(".")[1] for r in raws}) == 5


def test_invitation_and_token_hashes_use_different_keys():
    assert tokens.hash_secret("same") != tokens.hash_secret("same", purpose=tokens.INVITATION_PURPOSE)


def test_only_owners_or_the_operator_create_and_revoke_tokens(org, owner, member):
    with pytest.raises(NotAllowed, match="only an owner"):
        services.create_token(organization=org, name="ci", actor=member)
    token, _ = services.create_token(organization=org, name="ci", actor=None)
    assert token.created_by is None
    with pytest.raises(NotAllowed):
        services.revoke_token(organization=org, token_id=token.token_id, actor=member)
    assert OrganizationToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_token_refusals(org, owner):
    with pytest.raises(InvalidValue, match="must not be empty"):
        services.create_token(organization=org, name=" ", actor=owner)
    with pytest.raises(InvalidValue, match="in the future"):
        services.create_token(organization=org, name="old", expires=dt.date(2020, 1, 1), actor=owner)
    with pytest.raises(InvalidValue, match="time zone"):
        services.create_token(organization=org, name="naive", expires=dt.datetime(2999, 1, 1), actor=owner)  # noqa: DTZ001
    assert not OrganizationToken.objects.exists() and not TokenEvent.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "opc_org",
        "opc_org.abc",
        "opc_org.abcdefghijkl.tooshort",
        "opc_org.abcdefghijk!.0123456789abcdefghijklmnopqrstuv",
        "opc_usr.abcdefghijkl.0123456789abcdefghijklmnopqrstuv",
        "opc_org.abcdefghijkl.0123456789abcdefghijklmnopqrstuv.x",
        "opc_org.abcdefghijkl.0123456789abcdefghijklmnopqrstuv",  # well formed, unknown id
    ],
)
def test_malformed_or_unknown_tokens_are_invalid(db, raw):
    with pytest.raises(InvalidToken, match="Invalid token."):
        services.authenticate_token(raw=raw)


def test_wrong_secret_is_invalid(org, owner):
    _, raw = services.create_token(organization=org, name="ci", actor=owner)
    prefix, token_id, secret = raw.split(".")
    wrong = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    with pytest.raises(InvalidToken):
        services.authenticate_token(raw=f"{prefix}.{token_id}.{wrong}")


def test_revocation_is_immediate_recorded_and_audited(org, owner):
    token, raw = services.create_token(organization=org, name="ci", actor=owner)
    services.authenticate_token(raw=raw)
    revoked = services.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    assert revoked.revoked_by == owner and revoked.revoked_at is not None
    with pytest.raises(InvalidToken):
        services.authenticate_token(raw=raw)
    with pytest.raises(TokenError, match="already revoked"):
        services.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    assert OrganizationToken.objects.filter(pk=token.pk).exists()  # the row stays
    events = list(
        selectors.token_events_of(organization=org).values_list("action", "actor_label", "token__token_id")
    )
    assert events == [
        (TokenAction.REVOKED, "olivia", token.token_id),
        (TokenAction.CREATED, "olivia", token.token_id),
    ]


def test_revoking_another_organizations_token_is_refused(org, owner, outsider):
    other = services.create_organization(name="globex", owner=outsider)
    foreign, raw = services.create_token(organization=other, name="ci", actor=outsider)
    with pytest.raises(TokenError, match="has no token"):
        services.revoke_token(organization=org, token_id=foreign.token_id, actor=owner)
    assert services.authenticate_token(raw=raw).organization == other


def test_cli_actions_are_audited_as_cli(org):
    token, _ = services.create_token(organization=org, name="ops", actor=None)
    services.revoke_token(organization=org, token_id=token.token_id, actor=None)
    assert set(TokenEvent.objects.values_list("actor_label", flat=True)) == {"cli"}
    assert set(TokenEvent.objects.values_list("actor", flat=True)) == {None}


def test_expiry_date_means_through_that_day(org, owner):
    today = timezone.now().date()
    token, raw = services.create_token(organization=org, name="short", expires=today, actor=owner)
    assert token.expires_at == dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    assert services.authenticate_token(raw=raw) == token
    with pytest.raises(InvalidToken):
        services.authenticate_token(raw=raw, now=token.expires_at)
    with pytest.raises(InvalidToken):
        services.authenticate_token(raw=raw, now=token.expires_at + dt.timedelta(days=3))


def test_last_used_at_is_written_at_most_once_a_minute(org, owner, django_assert_num_queries):
    token, raw = services.create_token(organization=org, name="ci", actor=owner)
    assert token.last_used_at is None
    t0 = timezone.now()
    with django_assert_num_queries(2):  # lookup + the conditional UPDATE
        services.authenticate_token(raw=raw, now=t0)
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == t0
    with django_assert_num_queries(1):  # lookup only: used 30 s ago
        services.authenticate_token(raw=raw, now=t0 + dt.timedelta(seconds=30))
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == t0
    later = t0 + dt.timedelta(seconds=61)
    services.authenticate_token(raw=raw, now=later)
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == later


def test_concurrent_stale_copies_write_last_used_at_once(org, owner):
    token, _ = services.create_token(organization=org, name="ci", actor=owner)
    copy_a = OrganizationToken.objects.get(pk=token.pk)
    copy_b = OrganizationToken.objects.get(pk=token.pk)
    now = timezone.now()
    assert services.record_token_use(token=copy_a, now=now) is True
    # copy_b still believes the token was never used; the conditional UPDATE refuses the second write
    assert services.record_token_use(token=copy_b, now=now + dt.timedelta(seconds=5)) is False
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == now


def test_deleting_an_organization_needs_an_owner(org, owner, member):
    with pytest.raises(NotAllowed):
        services.delete_organization(organization=org, actor=member)
    services.delete_organization(organization=org, actor=owner)
    assert not Organization.objects.exists()


def test_project_cve_listing_plans_agree(org, owner, catalog, monkeypatch):
    """Many matches → walk the updated_at index; few → fetch and sort: the same CVEs in the same order."""
    # The plan compares the match count with the catalog size, cached process-wide for a minute; pin the
    # size to this test's catalog so other tests' rows (ids keep growing) cannot change the plan.
    monkeypatch.setattr(catalog_selectors, "approximate_cve_total", lambda: 14)
    for n in range(12):
        CveFactory(vendors=["fortinet"], updated_at=dt.datetime(2024, 1, 1 + n, tzinfo=dt.UTC))
    CveFactory(
        vendors=["apache", "apache$PRODUCT$log4j"], updated_at=dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC)
    )
    CveFactory(vendors=["microsoft"])
    wide = services.create_project(
        organization=org, name="wide", vendors=["fortinet"], products=["apache/log4j"]
    )
    narrow = services.create_project(organization=org, name="narrow", products=["apache/log4j"])
    expected = list(selectors.cves_for_project(project=wide))
    assert len(expected) == 13

    listing = selectors.project_cve_listing(project=wide)
    assert listing.count() == 13
    walk = listing.queryset(rows_needed=10)
    assert "EXISTS" in str(walk.query)
    assert list(walk) == expected and listing[0:5] == expected[:5] and listing[10:20] == expected[10:]

    few = selectors.project_cve_listing(project=narrow)
    fetch = few.queryset(rows_needed=10)
    assert "EXISTS" not in str(fetch.query)
    assert few.count() == 1 and list(fetch) == list(selectors.cves_for_project(project=narrow))


def test_project_cve_listing_applies_the_filters_to_both_plans(org, owner, catalog, monkeypatch):
    CveFactory(vendors=["fortinet"], cvss31_score=9.9)
    CveFactory(vendors=["fortinet"], cvss31_score=1.0)
    project = services.create_project(organization=org, name="p", vendors=["fortinet"])
    critical = selectors.project_cve_listing(project=project, cve_filter=CveFilter(cvss="critical"))
    assert critical.count() == 1
    for catalog_size, walks in [(0, True), (10**9, False)]:  # a small catalog → walk, a huge one → fetch
        monkeypatch.setattr(catalog_selectors, "approximate_cve_total", lambda size=catalog_size: size)
        queryset = critical.queryset(rows_needed=10)
        assert ("EXISTS" in str(queryset.query)) is walks
        assert [c.cvss31_score for c in queryset] == [9.9]
    bogus = CveFilter.from_params({"cvss": "bogus"})
    assert selectors.project_cve_listing(project=project, cve_filter=bogus).count() == 2


@pytest.mark.parametrize(
    ("vendors", "products"),
    [(["fortinet", "apache"], []), ([], ["apache/log4j", "apache/airflow"]), (["apache"], ["apache/log4j"])],
)
def test_a_cve_matching_several_subscriptions_counts_once(org, owner, catalog, vendors, products):
    CveFactory(vendors=["fortinet", "apache", "apache$PRODUCT$log4j", "apache$PRODUCT$airflow"])
    project = services.create_project(organization=org, name="p", vendors=vendors, products=products)
    listing = selectors.project_cve_listing(project=project)
    assert listing.count() == 1 and len(listing[0:10]) == 1
    assert selectors.cves_for_project(project=project).count() == 1
