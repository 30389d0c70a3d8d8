"""CompiledLookup: one-parameter ORM lookups compiled once per connection, answering as the queryset does."""

from __future__ import annotations

import pytest

from cvewatch.core.compiled import CompiledLookup
from cvewatch.organizations.models import Membership, OrganizationToken

pytestmark = pytest.mark.django_db


def test_none_when_no_row(db):
    lookup = CompiledLookup(lambda value: OrganizationToken.objects.filter(token_id=value))
    assert lookup.get("nothing-here") is None


def test_select_related_and_converters_as_the_orm(org, owner):
    from cvewatch.organizations.services import tokens

    token, _ = tokens.create_token(organization=org, name="ci", actor=owner)
    related = ("organization", "created_by", "revoked_by")  # revoked_by is null: no object, as the ORM
    lookup = CompiledLookup(lambda value: OrganizationToken.objects.select_related(*related).filter(token_id=value))
    found = lookup.get(token.token_id)
    assert lookup.get(token.token_id) is not found  # read again on every call
    expected = OrganizationToken.objects.select_related(*related).get(token_id=token.token_id)
    assert found == expected and found.created_at == expected.created_at and found.created_at.tzinfo is not None
    assert found.organization.uuid == expected.organization.uuid  # a UUID on both engines, not a string
    assert found.created_by.password == expected.created_by.password
    assert found.revoked_by is None and "revoked_by" in found._state.fields_cache


@pytest.mark.parametrize(
    "build",
    [
        lambda value: OrganizationToken.objects.filter(token_id=value, name=value),  # twice
        lambda value: OrganizationToken.objects.filter(name__contains=value),  # transformed: %value%
    ],
)
def test_a_value_used_other_than_once_as_it_is_is_refused(db, build):
    with pytest.raises(ValueError, match="exactly one of the query.s parameters"):
        CompiledLookup(build).get("x")


def test_constant_parameters_stay(org, owner):
    from cvewatch.organizations.services import tokens

    token, _ = tokens.create_token(organization=org, name="ci", actor=owner)
    lookup = CompiledLookup(lambda value: OrganizationToken.objects.filter(token_id=value, name="ci"))
    assert lookup.get(token.token_id) == token
    other = CompiledLookup(lambda value: OrganizationToken.objects.filter(token_id=value, name="other"))
    assert other.get(token.token_id) is None


def test_more_than_one_row_is_an_error(org, owner, member):
    lookup = CompiledLookup(lambda value: Membership.objects.filter(organization__name=value))
    with pytest.raises(ValueError, match="more than one row"):
        lookup.get(org.name)
