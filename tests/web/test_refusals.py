"""The web's one translation of domain errors: status by kind, form field by the error, messages queued."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from cvewatch.core import errors
from cvewatch.organizations.errors import DuplicateName, LastOwner, TokenError
from cvewatch.web.refusals import caught_refusal, refusal_as_message, refusal_on_form


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.NotFound("Project"), 404),
        (TokenError("the organization 'acme' has no token 'x'"), 404),
        (errors.InvalidInput("bad"), 400),
        (LastOwner("last owner"), 409),
        (errors.NotAllowed("no"), 403),
        (errors.AuthenticationFailed("Invalid token."), 401),
    ],
)
def test_the_status_follows_the_kind_of_error(error, status):
    with caught_refusal() as refusal:
        raise error
    assert refusal and refusal.status == status and refusal.message == str(error)


def test_no_refusal_is_falsy_and_other_exceptions_pass_through():
    with caught_refusal() as refusal:
        pass
    assert not refusal and refusal.message == ""
    with pytest.raises(KeyError), caught_refusal():
        raise KeyError("a bug is not a refusal")


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_form_shows_the_error_on_the_field_it_names_else_above_the_form():
    form = NameForm({"name": "acme"})
    assert form.is_valid()
    with refusal_on_form(form):
        raise DuplicateName("an organization named 'acme' already exists")
    assert form.errors == {"name": ["an organization named 'acme' already exists"]}
    other = NameForm({"name": "acme"})
    assert other.is_valid()
    with refusal_on_form(other):
        raise LastOwner("olivia is the last owner")
    assert other.non_field_errors() == ["olivia is the last owner"]


def test_a_message_is_queued_for_the_next_page():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    with refusal_as_message(request) as refusal:
        raise errors.NotAllowed("only an owner of 'acme' may do this")
    assert refusal
    assert [m.message for m in get_messages(request)] == ["only an owner of 'acme' may do this"]
