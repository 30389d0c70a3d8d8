"""A parsed query → one Django condition on catalog.Cve (a Q), so a query is one SQL statement on both engines.

    condition = compile_query(parse(text), resolvers={"userTag": ..., "project": ...})
    Cve.objects.filter(condition)

Field semantics (docs/query.md is the user's version):
- description, title: `:` case-insensitive substring (through catalog.search, the engines' trigram
  indexes), `=` the whole text (case-insensitive);
- cve: `:` substring of the id, `=` the exact id; cwe: the CVEs linked to that weakness (`:` and `=` alike);
- vendor, product: through the link tables; `:` a name containing the value, `=` that name;
- cvssNN, epss (percent): numeric comparison on the stored score; a CVE without that score never matches,
  not even `!=`;
- kev: true = in CISA's KEV catalog;
- created, updated: a date means that UTC day (`created>2024-01-01` is from 2024-01-02 on); an age `Nd`
  compares how long ago: `created<=30d` is created at most 30 days before `now`, `created>30d` before that;
- userTag, project: context fields, compiled by the caller's resolvers (a name → a condition, or None for
  an unknown name); without a resolver the field is "not available here".
`!:` and `!=` negate their positive forms. Errors are InvalidQuery at the faulty part's position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cvewatch.catalog import search
from cvewatch.catalog.models import CveProduct, CveVendor, CveWeakness, Product, Vendor, Weakness
from cvewatch.catalog.query.parser import column
from cvewatch.catalog.query.syntax import FIELDS, NEGATIONS, Age, And, Comparison, Kind, Node, Not
from cvewatch.core.errors import InvalidQuery

# A context field's resolver: a name → the condition of its CVEs, or None when the caller has no such name.
Resolver = Callable[[str], Q | None]
Resolvers = Mapping[str, Resolver]

_CONTEXT_LABEL = {"userTag": "tag", "project": "project"}


def compile_query(
    node: Node,
    *,
    resolvers: Resolvers | None = None,
    now: datetime | None = None,
    search_index: bool = True,
    resolve_names: bool = True,
) -> Q:
    """The condition a query tree means (see the module's docstring); `now` anchors relative dates.

    `search_index=False` tests each CVE row instead (text by LIKE, links by a correlated probe): for walking
    the CVEs newest-first until a page is full (selectors.CountedCves), and for conditions on a few known
    CVEs (alert matching), where the SQLite search table may lag inside an initial load's transaction
    (search.search_index_deferred).

    `resolve_names` looks vendor, product and CWE names up first (one indexed read each) and writes their
    ids into the statement, so PostgreSQL plans the link reads from its per-value statistics (with a name
    subquery it guessed 20 CVEs for microsoft's 9,910 and sorted them all for a page). The CVEs are still
    one statement. Alert matching, which compiles every subscription per batch, keeps subqueries.
    """
    return _Compiler(resolvers or {}, now or timezone.now(), search_index, resolve_names).compile(node)


# The fields whose answers change only with writes the search generation follows (catalog.search: a CVE's
# id, description or title, vendor/product links and names): a query of these alone may reuse its count.
GENERATION_FIELDS = frozenset({"description", "title", "cve", "vendor", "product"})


def follows_search_generation(node: Node) -> bool:
    """Whether the query's answer depends only on GENERATION_FIELDS (no scores, dates, links to CWEs, or
    the caller's context), so its count stays exact for one search generation."""
    if isinstance(node, Comparison):
        return node.field in GENERATION_FIELDS
    if isinstance(node, Not):
        return follows_search_generation(node.item)
    return all(follows_search_generation(item) for item in node.items)


class _Compiler:
    def __init__(self, resolvers: Resolvers, now: datetime, search_index: bool, resolve_names: bool) -> None:
        self.resolvers, self.now = resolvers, now
        self.search_index, self.resolve_names = search_index, resolve_names

    def compile(self, node: Node) -> Q:
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Not):
            return ~self.compile(node.item)
        condition = self.compile(node.items[0])
        for item in node.items[1:]:
            condition = (
                condition & self.compile(item) if isinstance(node, And) else condition | self.compile(item)
            )
        return condition

    def comparison(self, node: Comparison) -> Q:
        kind = FIELDS[node.field]
        positive = node.op not in NEGATIONS
        if kind in (Kind.SCORE, Kind.PERCENT):
            return _number(node, kind)
        if kind is Kind.DATE:
            return _date(node, self.now)
        if kind is Kind.CONTEXT:
            condition = self.context(node)
        elif kind is Kind.FLAG:
            condition = Q(kev_added__isnull=not node.value)
        else:
            condition = _text(node, kind, self.search_index, self.resolve_names)
        return condition if positive else ~condition

    def context(self, node: Comparison) -> Q:
        resolver = self.resolvers.get(node.field)
        if resolver is None:
            raise InvalidQuery(
                f"{node.field} is not available here (column {column(node.field_span.start)})",
                position=node.field_span.start,
                length=node.field_span.end - node.field_span.start,
            )
        condition = resolver(str(node.value))
        if condition is None:
            raise InvalidQuery(
                f"No {_CONTEXT_LABEL[node.field]} named {node.value!r} (column {column(node.value_span.start)})",
                position=node.value_span.start,
                length=node.value_span.end - node.value_span.start,
            )
        return condition


def _text(node: Comparison, kind: Kind, search_index: bool, resolve_names: bool) -> Q:
    value = str(node.value)
    contains = node.op in (":", "!:")
    if kind is Kind.TEXT:
        if contains and search_index:
            return search.column_contains(node.field, value)
        return Q(**{f"{node.field}__{'icontains' if contains else 'iexact'}": value})
    if kind is Kind.CVE:
        return Q(cve_id__icontains=value) if contains else Q(cve_id=value)
    link: Any
    if kind is Kind.CWE:
        link, link_field, targets = CveWeakness, "weakness_id", Weakness.objects.filter(cwe_id=value)
    else:
        link, link_field = (CveVendor, "vendor_id") if node.field == "vendor" else (CveProduct, "product_id")
        target: Any = Vendor if node.field == "vendor" else Product
        targets = target.objects.filter(**{"name__contains" if contains else "name": value})
    ids: Any = list(targets.values_list("pk", flat=True)) if resolve_names else targets.values("pk")
    links = link.objects.filter(**{f"{link_field}__in": ids})
    if not search_index:
        # Row by row (walking the CVEs in list order): a correlated probe of the link's cve index per CVE.
        return Q(Exists(links.filter(cve=OuterRef("pk"))))
    # Names first, then their links: the engines read the name table (or its unique index), then the link
    # table's (target, cve) index, instead of joining every link row to its name.
    return Q(pk__in=links.values("cve_id"))


_ORDER_LOOKUPS = {"=": "exact", "!=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


def _number(node: Comparison, kind: Kind) -> Q:
    column_name = "epss_score" if node.field == "epss" else f"{node.field}_score"
    value = float(node.value) / 100 if kind is Kind.PERCENT else float(node.value)  # type: ignore[arg-type]
    condition = Q(**{f"{column_name}__{_ORDER_LOOKUPS[node.op]}": value})
    if node.op == "!=":  # a CVE without the score matches no comparison, a negated one neither
        return Q(**{f"{column_name}__isnull": False}) & ~condition
    return condition


def _date(node: Comparison, now: datetime) -> Q:
    column_name = f"{node.field}_at"
    if isinstance(node.value, Age):
        cutoff = now - timedelta(days=node.value.days)
        # An age: `<= 30d` is at most 30 days old, i.e. at or after the cutoff.
        lookup = {"<=": "gte", "<": "gt", ">": "lt", ">=": "lte"}[node.op]
        return Q(**{f"{column_name}__{lookup}": cutoff})
    assert isinstance(node.value, date)
    start = datetime.combine(node.value, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    day = Q(**{f"{column_name}__gte": start, f"{column_name}__lt": end})
    if node.op in (":", "="):
        return day
    if node.op == "!=":
        return ~day
    bounds = {">": ("gte", end), ">=": ("gte", start), "<": ("lt", start), "<=": ("lt", end)}
    lookup, moment = bounds[node.op]
    return Q(**{f"{column_name}__{lookup}": moment})
