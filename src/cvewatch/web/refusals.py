"""The web's one translation of domain errors (`core.errors.DomainError`) into what a page shows.

Views run a service call inside one of these context managers instead of catching each app's exceptions:

    with refusal_as_message(request) as refusal:
        members.remove_member(...)
    if refusal:            # the service refused: its message is already queued for the next page
        return redirect(...)

- `refusal_as_message`: a flash message (the action redirects back to the page it came from);
- `refusal_on_form`: a form error, on the field the error names (`exc.field`) when the form has it;
- `caught_refusal`: nothing shown, for pages that render the message themselves (`refusal.message`,
  `refusal.status`).

The status is the one the error's kind carries (`core.errors`' `http_status`), as the API answers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from cvewatch.core import errors


class Refusal:
    """Truthy once the block was refused; then holds the error, its message and its HTTP status."""

    error: errors.DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""

    @property
    def status(self) -> int:
        return self.error.http_status if self.error is not None else errors.DomainError.http_status


@contextmanager
def caught_refusal() -> Iterator[Refusal]:
    """Catch a DomainError raised in the block into the yielded Refusal; show nothing."""
    refusal = Refusal()
    try:
        yield refusal
    except errors.DomainError as exc:
        refusal.error = exc


@contextmanager
def refusal_as_message(request: HttpRequest) -> Iterator[Refusal]:
    """Catch a DomainError and queue its message as an error message for the next page."""
    with caught_refusal() as refusal:
        yield refusal
    if refusal:
        messages.error(request, refusal.message)


@contextmanager
def refusal_on_form(form: forms.Form) -> Iterator[Refusal]:
    """Catch a DomainError into the form: on the field the error names, else as a non-field error."""
    with caught_refusal() as refusal:
        yield refusal
    if refusal:
        field = getattr(refusal.error, "field", None)
        form.add_error(field if field in form.fields else None, refusal.message)
