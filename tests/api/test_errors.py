"""The one exception handler: every core.errors kind becomes its status with {"detail": <message>}.

A real DRF view (the API's base view, its authentication and the configured handler) raises each kind.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from cvewatch.api.views import ListView
from cvewatch.core import errors
from tests.api.conftest import basic_header
from tests.support.people import PASSWORD

pytestmark = pytest.mark.django_db


class Refusal(errors.Conflict):
    """An app's own error derives from a kind; the handler needs to know only the kind."""


def raising(exc: Exception):
    class RaisingView(ListView):
        def get_queryset(self):
            raise exc

    return RaisingView.as_view()


@pytest.mark.parametrize(
    ("exc", "status", "detail"),
    [
        (errors.NotFound("Project"), 404, "No Project matches the given query."),
        (errors.InvalidInput("the date 2024-13-01 is not a date"), 400, "the date 2024-13-01 is not a date"),
        (Refusal("a project named 'web' already exists"), 409, "a project named 'web' already exists"),
        (errors.NotAllowed("only owners may do that"), 403, "only owners may do that"),
        (errors.AuthenticationFailed("Invalid token."), 401, "Invalid token."),
        (errors.DomainError("some other refusal"), 400, "some other refusal"),
    ],
)
def test_each_kind_has_its_status_and_body(user, exc, status, detail):
    request = APIRequestFactory().get("/api/anything", HTTP_AUTHORIZATION=basic_header("alice", PASSWORD))
    response = raising(exc)(request)
    response.render()
    assert response.status_code == status
    assert response.content == b'{"detail":"' + detail.encode() + b'"}'
    challenge = response.headers.get("WWW-Authenticate")
    assert challenge == ('Basic realm="api"' if status == 401 else None)


def test_other_exceptions_are_not_swallowed(user):
    request = APIRequestFactory().get("/api/anything", HTTP_AUTHORIZATION=basic_header("alice", PASSWORD))
    with pytest.raises(KeyError):
        raising(KeyError("a bug"))(request)
