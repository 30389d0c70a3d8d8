"""The caller's context fields of the query language (userTag, project), supplied by the apps that own them.

The catalog cannot import the apps above it (tags live in the workbench, projects in organizations), so the
workbench registers a provider at start-up (WorkbenchConfig.ready). A provider turns a caller (a person, a
token's user, None) and an optional current organization into resolvers: a name → the condition of its
CVEs, or None for a name the caller does not have. Without a provider every context field is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cvewatch.catalog.query.compiler import Resolver

Provider = Callable[..., dict[str, Resolver]]  # provider(caller=..., organization=...)

_providers: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Add a provider of resolvers (idempotent: registering the same function twice keeps one)."""
    if provider not in _providers:
        _providers.append(provider)


def resolvers_for(*, caller: Any, organization: Any = None) -> dict[str, Resolver]:
    """The resolvers this caller may use; `organization` narrows `project` to one organization's projects."""
    resolvers: dict[str, Resolver] = {}
    for provider in _providers:
        resolvers.update(provider(caller=caller, organization=organization))
    return resolvers
