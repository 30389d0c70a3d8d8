"""core.errors: each kind carries its HTTP status, and both HTTP edges answer with it."""

from __future__ import annotations

import pytest

from cvewatch.api.exceptions import api_exception
from cvewatch.core import errors
from cvewatch.web.refusals import caught_refusal


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (errors.DomainError, 400),
        (errors.InvalidInput, 400),
        (errors.AuthenticationFailed, 401),
        (errors.NotAllowed, 403),
        (errors.NotFound, 404),
        (errors.Conflict, 409),
    ],
)
def test_each_kind_carries_its_status(kind, status):
    assert kind.http_status == status


class Teapot(errors.DomainError):
    """A kind no edge knows by name: both edges must read its status from it."""

    http_status = 418


def test_the_api_and_the_web_read_the_status_from_the_kind():
    error = Teapot("short and stout")
    assert api_exception(error).status_code == 418
    assert api_exception(error).detail == "short and stout"
    with caught_refusal() as refusal:
        raise error
    assert refusal.status == 418
    assert api_exception(errors.AuthenticationFailed("Invalid token.")).status_code == 401
