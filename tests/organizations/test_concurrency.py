"""The last-owner rule under concurrency: two owners demoting each other at once leave one owner.

Real transactions on separate connections (threads); on PostgreSQL the owner rows are locked, on SQLite
the IMMEDIATE transaction serialises the writers.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from cvewatch.organizations import selectors
from cvewatch.organizations.choices import Role
from cvewatch.organizations.errors import LastOwner
from cvewatch.organizations.services import members, organizations
from tests.support.people import make_user


@pytest.mark.django_db(transaction=True)
def test_concurrent_demotions_cannot_remove_the_last_owner():
    alice, bob = make_user("alice"), make_user("bob")
    org = organizations.create_organization(name="acme", owner=alice)
    members.add_member(organization=org, user=bob, role=Role.OWNER, actor=alice)

    first_done = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, object] = {}

    def demote_alice_and_hold() -> None:
        try:
            with transaction.atomic():
                members.change_member_role(organization=org, user=alice, role=Role.MEMBER, actor=bob)
                first_done.set()
                release_first.wait(10)  # keep the transaction (and its locks) open
            outcome["first"] = "demoted"
        finally:
            connection.close()

    def demote_bob() -> None:
        try:
            members.change_member_role(organization=org, user=bob, role=Role.MEMBER, actor=bob)
            outcome["second"] = "demoted"
        except LastOwner:
            outcome["second"] = "last owner"
        except OperationalError as exc:
            outcome["second"] = f"refused: {exc}"
        finally:
            connection.close()

    first = threading.Thread(target=demote_alice_and_hold)
    second = threading.Thread(target=demote_bob)
    first.start()
    try:
        assert first_done.wait(10)
        second.start()
        second.join(0.5)
        waited = second.is_alive()
    finally:
        release_first.set()
        first.join(10)
        second.join(10)
    assert outcome["first"] == "demoted"
    if connection.vendor == "postgresql":
        # the second transaction waits on the owner row locks, then re-reads: bob is the last owner
        assert waited and outcome["second"] == "last owner"
    else:
        # the test database is SQLite's shared-cache in-memory one, which refuses a second writer at once
        # ("database table is locked") where a file database would wait (busy_timeout); either is safe
        assert outcome["second"] == "last owner" or "locked" in str(outcome["second"])
    owners = [m.user.username for m in selectors.members_of(organization=org) if m.role == Role.OWNER]
    assert owners == ["bob"]
