"""A project's query subscriptions: add and remove. The project's CVEs and alerts include what they match.

    add_query_subscription(project=p, query='vendor:acme AND cvss31>=7', name="acme high", actor=user)

A subscription's query is checked when it is saved: it must parse, and it may not use the context fields
(userTag, project), whose meaning depends on who is looking, while alerts run for the whole project.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from cvewatch.catalog.query.parser import column, parse
from cvewatch.catalog.query.syntax import CONTEXT_FIELDS, comparisons
from cvewatch.core.errors import Conflict, InvalidInput, InvalidQuery, NotFound
from cvewatch.organizations.models import Project
from cvewatch.organizations.services.access import require_member
from cvewatch.workbench.models import QuerySubscription

NAME_MAX = 64


def checked_subscription_query(query: str) -> str:
    """The query, stripped, if a subscription may hold it; InvalidQuery (with its position) otherwise."""
    text = (query or "").strip()
    node = parse(text)
    for comparison in comparisons(node):
        if comparison.field in CONTEXT_FIELDS:
            span = comparison.field_span
            raise InvalidQuery(
                f"{comparison.field} cannot be used in a subscription: it depends on who is looking "
                f"(column {column(span.start)})",
                position=span.start,
                length=span.end - span.start,
            )
    return text


def add_query_subscription(
    *, project: Project, query: str, name: str = "", actor: AbstractBaseUser | None = None
) -> QuerySubscription:
    """Subscribe the project to a query; the same query twice is a Conflict."""
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise InvalidInput(f"The name is too long (at most {NAME_MAX} characters).")
    text = checked_subscription_query(query)
    with transaction.atomic():
        require_member(project.organization, actor)
        if QuerySubscription.objects.filter(project=project, query=text).exists():
            raise Conflict("The project already subscribes to this query.")
        try:
            with transaction.atomic():
                return QuerySubscription.objects.create(
                    project=project, query=text, name=name, created_by=actor if actor is not None else None
                )
        except IntegrityError:  # a concurrent add of the same query
            raise Conflict("The project already subscribes to this query.") from None


def remove_query_subscription(
    *, project: Project, subscription_id: int, actor: AbstractBaseUser | None = None
) -> None:
    """Remove one of the project's query subscriptions (another project's is NotFound)."""
    with transaction.atomic():
        require_member(project.organization, actor)
        deleted, _ = QuerySubscription.objects.filter(project=project, pk=subscription_id).delete()
        if not deleted:
            raise NotFound("QuerySubscription")
