"""The query language's person-aware half: what `userTag:` and `project:` mean for a caller, and the CVEs of a
project's query subscriptions. Registered with the catalog and organizations at start-up (apps.py).

- `userTag:<name>`: the CVEs the person calling tagged with their tag of that name (exact name). Only people
  have tags: for a token, or nobody, the field is "not available here". An unknown tag is an error naming it.
- `project:<name>`: the CVEs the project of that name matches (its vendor/product subscriptions OR its
  query subscriptions), looked up in the caller's current organization (the web's), or else every
  organization the caller may see (a token: its own). An unknown project is an error naming it.
- A project's query subscriptions add the CVEs their queries match to the project (list, alerts).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q

from cvewatch.catalog.query.compiler import Resolver, compile_query
from cvewatch.catalog.query.parser import parse
from cvewatch.core.errors import InvalidQuery
from cvewatch.organizations import selectors as org_selectors
from cvewatch.organizations.callers import is_token_user
from cvewatch.organizations.models import Organization, Project
from cvewatch.workbench.models import CveTag, QuerySubscription, UserTag

log = logging.getLogger(__name__)


def resolvers_for(*, caller: Any, organization: Any = None) -> dict[str, Resolver]:
    """The context fields this caller may use in a query (catalog.query.context's provider)."""
    if is_token_user(caller):
        organizations = Organization.objects.filter(pk=caller.organization.pk)
        return {"project": _project_resolver(organizations)}
    if caller is None or not getattr(caller, "is_authenticated", False) or getattr(caller, "pk", None) is None:
        return {}
    if organization is not None:
        organizations = Organization.objects.filter(pk=organization.pk, memberships__user_id=caller.pk)
    else:
        organizations = org_selectors.organizations_for(caller=caller)
    return {"userTag": _tag_resolver(caller.pk), "project": _project_resolver(organizations)}


def tagged_cves(*, user_id: int, name: str) -> Q | None:
    """The CVEs a person tagged with their tag `name`; None if they have no such tag."""
    tag_id = UserTag.objects.filter(user_id=user_id, name=name).values_list("pk", flat=True).first()
    if tag_id is None:
        return None
    return Q(pk__in=CveTag.objects.filter(tag_id=tag_id).values("cve_id"))


def _tag_resolver(user_id: int) -> Resolver:
    return lambda name: tagged_cves(user_id=user_id, name=name)


def _project_resolver(organizations: Any) -> Resolver:
    def resolve(name: str) -> Q | None:
        projects = list(Project.objects.filter(organization__in=organizations, name=name))
        if not projects:
            return None
        condition = org_selectors.project_condition(project=projects[0])
        for project in projects[1:]:
            condition |= org_selectors.project_condition(project=project)
        return condition

    return resolve


def subscription_condition(query: str, *, search_index: bool = True) -> Q:
    """The CVEs a subscription's query matches (no context fields: services refuse them at save).

    search_index=False for a condition on a few known CVEs (alert matching: names stay subqueries there, so
    a batch's reads do not grow with its subscriptions' names); see compile_query.
    """
    return compile_query(parse(query), search_index=search_index, resolve_names=search_index)


def query_subscriptions_condition(project: Project) -> Q | None:
    """The CVEs matched by any of the project's query subscriptions, or None when it has none.

    A stored query that no longer parses (the language changed under it) matches nothing and is logged,
    rather than breaking the project's list and its alerts.
    """
    condition: Q | None = None
    for subscription_id, query in QuerySubscription.objects.filter(project=project).values_list("pk", "query"):
        try:
            matched = subscription_condition(query)
        except InvalidQuery as exc:
            log.warning("query subscription %s no longer parses: %s", subscription_id, exc)
            continue
        condition = matched if condition is None else condition | matched
    return condition


def query_subscriptions_of(*, project: Project) -> list[QuerySubscription]:
    """The project's query subscriptions, oldest first (the page's list)."""
    return list(QuerySubscription.objects.filter(project=project).order_by("created_at", "id"))
