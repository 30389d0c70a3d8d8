"""Which changed CVEs the projects' query subscriptions match (workbench.QuerySubscription), set-based.

Descriptions are tested on the chunk's rows, not through the search index (which an initial load fills only
at its end; catalog.search.search_index_deferred). One read of the subscriptions of projects with a live notification, then one statement per chunk of CVEs
and group of subscriptions: each subscription's compiled query is a boolean column of the same SELECT, so
the cost grows with the number of subscriptions / SUBSCRIPTIONS_PER_QUERY, never with the changes' count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q

from cvewatch.catalog.models import Cve
from cvewatch.core.errors import InvalidQuery
from cvewatch.workbench.models import QuerySubscription
from cvewatch.workbench.query import subscription_condition

SUBSCRIPTIONS_PER_QUERY = 50
QUERY_PREFIX = "query:"  # a query subscription's raw name in a delivery body: "query:<name or query>"


def raw_name(*, name: str, query: str) -> str:
    return f"{QUERY_PREFIX}{name or query}"


@dataclass
class QueryMatches:
    """What the query subscriptions of live projects matched, and every such subscription by project."""

    matched: dict[int, dict[int, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    names: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def query_matches(*, chunks: Sequence[Sequence[int]], has_live: Any) -> QueryMatches:
    """project id -> cve pk -> raw names of the project's query subscriptions that match the CVE."""
    found = QueryMatches()
    compiled: list[tuple[int, str, Q]] = []
    for project_id, name, query in QuerySubscription.objects.filter(has_live).values_list(
        "project_id", "name", "query"
    ):
        raw = raw_name(name=name, query=query)
        found.names[project_id].append(raw)
        try:
            compiled.append((project_id, raw, subscription_condition(query, search_index=False)))
        except InvalidQuery:  # saved before a language change: matches nothing (workbench.query logs it)
            continue
    for group_start in range(0, len(compiled), SUBSCRIPTIONS_PER_QUERY):
        group = compiled[group_start : group_start + SUBSCRIPTIONS_PER_QUERY]
        columns = {
            f"s{i}": ExpressionWrapper(cond, output_field=BooleanField())
            for i, (_, _, cond) in enumerate(group)
        }
        for chunk in chunks:
            for row in Cve.objects.filter(pk__in=chunk).annotate(**columns).values("pk", *columns):
                for i, (project_id, raw, _) in enumerate(group):
                    if row[f"s{i}"]:
                        found.matched[project_id][row["pk"]].add(raw)
    return found
