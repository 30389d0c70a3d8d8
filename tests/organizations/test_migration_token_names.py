"""Migration 0003_n_token_names: existing duplicate token names are renamed, then the constraint holds."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from tests.migrating import migrate

BEFORE = [("organizations", "0002_verified_email")]
AFTER = [("organizations", "0003_n_token_names")]
migration = importlib.import_module("cvewatch.organizations.migrations.0003_n_token_names")


@pytest.mark.django_db(transaction=True)
def test_active_duplicates_are_renamed_oldest_first_and_revoked_ones_kept():
    apps = migrate(BEFORE)
    Organization = apps.get_model("organizations", "Organization")
    Token = apps.get_model("organizations", "OrganizationToken")
    acme = Organization.objects.create(name="acme")
    globex = Organization.objects.create(name="globex")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [  # (organization, name, minutes after start, revoked)
        (acme, "ci", 0, False),
        (acme, "CI", 5, False),  # same name in another case: a duplicate
        (acme, "ci", 3, False),
        (acme, "ci (2)", 9, False),  # a name the renaming must not take
        (acme, "ci", 1, True),  # revoked: keeps its name
        (acme, "x" * 100, 0, False),
        (acme, "x" * 100, 1, False),  # renamed within 100 characters
        (globex, "ci", 7, False),  # another organization: not a duplicate
    ]
    ids = []
    for n, (organization, name, minutes, revoked) in enumerate(rows):
        at = start + dt.timedelta(minutes=minutes)
        ids.append(
            Token.objects.create(
                organization=organization,
                token_id=f"T{n:011d}",
                secret_hash="0" * 64,
                name=name,
                created_at=at,
                revoked_at=at if revoked else None,
            ).token_id
        )

    apps = migrate(AFTER)
    Token = apps.get_model("organizations", "OrganizationToken")
    names = dict(Token.objects.values_list("token_id", "name"))
    assert [names[i] for i in ids] == [
        "ci",
        "CI (4)",
        "ci (3)",
        "ci (2)",
        "ci",
        "x" * 100,
        "x" * 96 + " (2)",
        "ci",
    ]


def test_free_name_skips_taken_names_and_fits_the_column():
    assert migration._free_name("ci", {"ci", "ci (2)"}) == "ci (3)"
    assert migration._free_name("y" * 100, {"y" * 100}) == "y" * 96 + " (2)"
