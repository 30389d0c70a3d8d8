"""cvewatch's PostgreSQL backend (core/postgresql): a health check without a round trip, prepared statements."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connections
from tests.support.engines import postgresql_only

pytestmark = [postgresql_only, pytest.mark.django_db]


@pytest.fixture
def own_connection() -> Iterator[object]:
    """A connection of its own, idle outside any transaction, as a web thread keeps it between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _refuse_statements(wrapper: object, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the health check sent a statement")

    monkeypatch.setattr(wrapper.connection, "cursor", refuse)
    monkeypatch.setattr(wrapper.connection, "execute", refuse)


def test_a_sound_idle_connection_is_usable_without_a_statement(own_connection, monkeypatch):
    _refuse_statements(own_connection, monkeypatch)
    assert own_connection.is_usable()


def test_a_connection_the_server_ended_is_not_usable(own_connection):
    pid = own_connection.connection.info.backend_pid
    params = own_connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while own_connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's message and EOF arrive just after pg_terminate_backend returns
    assert not own_connection.is_usable()


def test_the_request_check_reconnects_after_the_server_ended_the_connection(own_connection):
    pid = own_connection.connection.info.backend_pid
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    own_connection.health_check_done = False  # a new request (close_if_unusable_or_obsolete)
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_repeated_statements_are_prepared_and_planned_for_their_parameters(own_connection):
    with own_connection.cursor() as cursor:
        for _ in range(8):
            cursor.execute("SELECT count(*) FROM auth_user WHERE id > %s", [0])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%auth_user%"])
        assert cursor.fetchone()[0] == 1
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"


def test_a_descriptor_above_1023_is_checked_without_a_statement(own_connection, monkeypatch):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1500:
        pytest.skip("the hard limit on open files leaves no descriptor above 1500")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    high = os.dup2(own_connection.connection.fileno(), 1500)  # select() refuses it, poll() does not
    try:
        monkeypatch.setattr(own_connection.connection, "fileno", lambda: high)
        _refuse_statements(own_connection, monkeypatch)
        assert own_connection.is_usable()
    finally:
        os.close(high)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
