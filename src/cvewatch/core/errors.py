"""Domain exceptions. Services and selectors raise these; the API exception handler maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the edges (API, web, CLI) translate for the caller."""


class NotFound(DomainError):
    """A looked-up object does not exist (or the caller may not see it): 404 "No <Model> matches ..."."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        super().__init__(f"No {model_name} matches the given query.")

    @property
    def message(self) -> str:
        return str(self)
