"""API tokens: format, hashing, lifecycle, audit, and authentication of a presented token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cvewatch.organizations import selectors, tokens
from cvewatch.organizations.choices import TokenAction, TokenStatus
from cvewatch.organizations.errors import (
    DuplicateName,
    InvalidToken,
    InvalidValue,
    NotAllowed,
    TokenError,
)
from cvewatch.organizations.models import (
    OrganizationToken,
    TokenEvent,
)
from cvewatch.organizations.services import organizations
from cvewatch.organizations.services import tokens as token_services

pytestmark = pytest.mark.django_db


def test_token_has_the_contract_format_and_only_a_hash_is_stored(org, owner):
    token, raw = token_services.create_token(organization=org, name="ci", description="GitHub Actions", actor=owner)
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
    assert token_services.authenticate_token(raw=raw).organization == org


def test_tokens_are_random(org, owner):
    raws = {token_services.create_token(organization=org, name=f"t{i}", actor=owner)[1] for i in range(5)}
    assert len(raws) == 5 and len({r.split(".")[1] for r in raws}) == 5


def test_only_owners_or_the_operator_create_and_revoke_tokens(org, owner, member):
    with pytest.raises(NotAllowed, match="only an owner"):
        token_services.create_token(organization=org, name="ci", actor=member)
    token, _ = token_services.create_token(organization=org, name="ci", actor=None)
    assert token.created_by is None
    with pytest.raises(NotAllowed):
        token_services.revoke_token(organization=org, token_id=token.token_id, actor=member)
    assert OrganizationToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_token_refusals(org, owner):
    with pytest.raises(InvalidValue, match="must not be empty"):
        token_services.create_token(organization=org, name=" ", actor=owner)
    with pytest.raises(InvalidValue, match="in the future"):
        token_services.create_token(organization=org, name="old", expires=dt.date(2020, 1, 1), actor=owner)
    with pytest.raises(InvalidValue, match="time zone"):
        token_services.create_token(organization=org, name="naive", expires=dt.datetime(2999, 1, 1), actor=owner)  # noqa: DTZ001
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
        token_services.authenticate_token(raw=raw)


def test_revocation_is_immediate_recorded_and_audited(org, owner):
    token, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    token_services.authenticate_token(raw=raw)
    revoked = token_services.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    assert revoked.revoked_by == owner and revoked.revoked_at is not None
    with pytest.raises(InvalidToken):
        token_services.authenticate_token(raw=raw)
    with pytest.raises(TokenError, match="already revoked"):
        token_services.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    assert OrganizationToken.objects.filter(pk=token.pk).exists()  # the row stays
    events = list(
        selectors.token_events_of(organization=org).values_list("action", "actor_label", "token__token_id")
    )
    assert events == [
        (TokenAction.REVOKED, "olivia", token.token_id),
        (TokenAction.CREATED, "olivia", token.token_id),
    ]


def test_revoking_another_organizations_token_is_refused(org, owner, outsider):
    other = organizations.create_organization(name="globex", owner=outsider)
    foreign, raw = token_services.create_token(organization=other, name="ci", actor=outsider)
    with pytest.raises(TokenError, match="has no token"):
        token_services.revoke_token(organization=org, token_id=foreign.token_id, actor=owner)
    assert token_services.authenticate_token(raw=raw).organization == other


def test_cli_actions_are_audited_as_cli(org):
    token, _ = token_services.create_token(organization=org, name="ops", actor=None)
    token_services.revoke_token(organization=org, token_id=token.token_id, actor=None)
    assert set(TokenEvent.objects.values_list("actor_label", flat=True)) == {"cli"}
    assert set(TokenEvent.objects.values_list("actor", flat=True)) == {None}


def test_expiry_date_means_through_that_day(org, owner):
    today = timezone.now().date()
    token, raw = token_services.create_token(organization=org, name="short", expires=today, actor=owner)
    assert token.expires_at == dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    assert token_services.authenticate_token(raw=raw) == token
    with pytest.raises(InvalidToken):
        token_services.authenticate_token(raw=raw, now=token.expires_at)
    with pytest.raises(InvalidToken):
        token_services.authenticate_token(raw=raw, now=token.expires_at + dt.timedelta(days=3))


def test_last_used_at_is_written_at_most_once_a_minute(org, owner, django_assert_num_queries):
    token, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    assert token.last_used_at is None
    t0 = timezone.now()
    with django_assert_num_queries(2):  # lookup + the conditional UPDATE
        token_services.authenticate_token(raw=raw, now=t0)
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == t0
    with django_assert_num_queries(1):  # lookup only: used 30 s ago
        token_services.authenticate_token(raw=raw, now=t0 + dt.timedelta(seconds=30))
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == t0
    later = t0 + dt.timedelta(seconds=61)
    token_services.authenticate_token(raw=raw, now=later)
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == later


def test_concurrent_stale_copies_write_last_used_at_once(org, owner):
    token, _ = token_services.create_token(organization=org, name="ci", actor=owner)
    copy_a = OrganizationToken.objects.get(pk=token.pk)
    copy_b = OrganizationToken.objects.get(pk=token.pk)
    now = timezone.now()
    assert token_services.record_token_use(token=copy_a, now=now) is True
    # copy_b still believes the token was never used; the conditional UPDATE refuses the second write
    assert token_services.record_token_use(token=copy_b, now=now + dt.timedelta(seconds=5)) is False
    assert OrganizationToken.objects.get(pk=token.pk).last_used_at == now


def test_wrong_secret_is_invalid(org, owner):
    _, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    prefix, token_id, secret = raw.split(".")
    wrong = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    with pytest.raises(InvalidToken):
        token_services.authenticate_token(raw=f"{prefix}.{token_id}.{wrong}")


def test_invitation_and_token_hashes_use_different_keys():
    assert tokens.hash_secret("same") != tokens.hash_secret("same", purpose=tokens.INVITATION_PURPOSE)


def test_the_status_is_computed_by_the_model_alone(org, owner):
    token, _ = token_services.create_token(organization=org, name="ci", actor=owner)
    now = timezone.now()
    assert token.status == TokenStatus.ACTIVE == "active"
    token.expires_at = now + dt.timedelta(hours=1)
    assert token.status_at(now) == TokenStatus.ACTIVE
    assert token.status_at(token.expires_at) == TokenStatus.EXPIRED  # stops at the expiry instant
    token_services.revoke_token(organization=org, token_id=token.token_id, actor=owner)
    token.refresh_from_db()
    assert token.status == TokenStatus.REVOKED  # revoked wins over expired
    assert token.status_at(now + dt.timedelta(days=9)) == TokenStatus.REVOKED


def test_names_are_unique_among_the_tokens_not_revoked_whatever_their_case(org, owner, outsider):
    other_org = organizations.create_organization(name="globex", owner=outsider)
    first, _ = token_services.create_token(organization=org, name="SIEM export", actor=owner)
    with pytest.raises(DuplicateName, match=rf"already has an active token named 'SIEM export' \({first.token_id}\)"):
        token_services.create_token(organization=org, name=" siem EXPORT ", actor=None)
    # Another organization may use the name.
    token_services.create_token(organization=other_org, name="SIEM export", actor=outsider)
    # An expired token still holds its name (a script may still carry it): revoking it frees the name.
    OrganizationToken.objects.filter(pk=first.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(DuplicateName, match="already has an expired token named 'SIEM export'.*revoke that token"):
        token_services.create_token(organization=org, name="SIEM export", actor=owner)
    token_services.revoke_token(organization=org, token_id=first.token_id, actor=owner)
    second, _ = token_services.create_token(organization=org, name="SIEM export", actor=owner)
    assert second.pk != first.pk
    assert OrganizationToken.objects.filter(organization=org).count() == 2
    assert TokenEvent.objects.filter(organization=org, action=TokenAction.CREATED).count() == 2


def test_the_database_refuses_a_duplicate_name_the_service_did_not_see(org, owner):
    """The constraint backs the check: a concurrent creation cannot slip a second active name in."""
    from django.db import IntegrityError, transaction

    token_services.create_token(organization=org, name="ci", actor=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationToken.objects.create(organization=org, token_id="A" * 12, secret_hash="0" * 64, name="CI")
    OrganizationToken.objects.create(
        organization=org, token_id="B" * 12, secret_hash="0" * 64, name="CI", revoked_at=timezone.now()
    )


def test_the_token_lookup_is_compiled_once_not_per_request(org, owner, monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler

    _, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    token_services.authenticate_token(raw=raw)  # compiles on this connection (and writes last_used_at)
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k))
    assert token_services.authenticate_token(raw=raw).organization == org
    assert compiled == []


def test_the_compiled_lookup_loads_what_the_orm_loads(org, owner):
    token, raw = token_services.create_token(
        organization=org, name="ci", description="d", expires=dt.date(2999, 1, 1), actor=owner
    )
    found = token_services.authenticate_token(raw=raw)
    expected = OrganizationToken.objects.select_related("organization").get(pk=token.pk)
    fields = [f.attname for f in OrganizationToken._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert found.expires_at.tzinfo is not None and found.last_used_at.tzinfo is not None
    assert "organization" in found._state.fields_cache  # loaded with the token: no query on access
    org_fields = [f.attname for f in org._meta.concrete_fields]
    assert [getattr(found.organization, n) for n in org_fields] == [getattr(expected.organization, n) for n in org_fields]
    assert not found._state.adding and found._state.db == expected._state.db


def test_a_deleted_organization_or_token_is_invalid_on_the_next_request(org, owner):
    _, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    assert token_services.authenticate_token(raw=raw).organization == org
    org.delete()
    with pytest.raises(InvalidToken):
        token_services.authenticate_token(raw=raw)


def test_a_renamed_organization_is_seen_on_the_next_request(org, owner):
    _, raw = token_services.create_token(organization=org, name="ci", actor=owner)
    assert token_services.authenticate_token(raw=raw).organization.name == org.name
    type(org).objects.filter(pk=org.pk).update(name="renamed")
    assert token_services.authenticate_token(raw=raw).organization.name == "renamed"
