"""The one error hierarchy. Services and selectors raise these; each edge translates them in one place.

Each kind carries its HTTP status (`http_status`), the one mapping both HTTP edges read: the API's exception
handler answers with it and the web's refusal helper shows a page with it; the CLI's command base turns any
kind into a non-zero exit. A domain app derives its own errors from one of these kinds, so no edge has to
know every app's exceptions. `str(exc)` is always a message fit for the user.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base class of every error the edges (API, web, CLI) translate for the caller.

    A DomainError of no narrower kind is the caller's mistake: 400.
    """

    http_status: ClassVar[int] = 400

    @property
    def message(self) -> str:
        return str(self)


class NotFound(DomainError):
    """A looked-up object does not exist (or the caller may not see it): 404 "No <Model> matches ..."."""

    http_status: ClassVar[int] = 404

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        super().__init__(f"No {model_name} matches the given query.")


class InvalidInput(DomainError):
    """A value the caller gave is refused (a name, a date, an e-mail address, a query): 400."""

    http_status: ClassVar[int] = 400


class InvalidQuery(InvalidInput):
    """A query of the search language is malformed: the message names the faulty part and its column.

    `position` is the 0-based offset of that part in the query and `length` its length (the web highlights
    it); the message gives the 1-based column, as people count.
    """

    def __init__(self, message: str, *, position: int = 0, length: int = 1) -> None:
        self.position, self.length = position, max(length, 1)
        super().__init__(message)


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate name, the last owner leaving): 409."""

    http_status: ClassVar[int] = 409


class NotAllowed(DomainError):
    """The caller lacks the role or right the action needs: 403."""

    http_status: ClassVar[int] = 403


class AuthenticationFailed(DomainError):
    """Presented credentials are unknown, wrong, revoked or expired: 401."""

    http_status: ClassVar[int] = 401
