"""The parameters of a CVE list, in one place: which are given, which are active, how they filter.

`/api/cve`, a project's CVE list (API and web page) and the web's CVE list all build a CveFilter from their
query parameters and hand it to the selectors; nothing else decides what a parameter means.

    CveFilter.from_params(request.query_params, user=person)   # person: None for token callers

Parameters (combined with AND; unknown parameters and empty values are ignored):
- `search`: a case-insensitive substring of the CVE id or description, or an exact vendor/product name;
- `vendor` and `product` (only with `vendor`), spelled by catalog.names' query rules (a vendor loses its
  whitespace, a product's becomes `_`): an unknown one raises NotFound("Vendor") / NotFound("Product");
- `cvss`: a CVSS v3.1 range (CVSS_RANGES) or `empty`, case-insensitive; any other value is ignored;
- `weakness`: an exact CWE id; an unknown one matches nothing;
- `tag`: a tag of the person calling: the CVEs they tagged with it; an unknown tag raises NotFound("UserTag").
  Token callers have no tags: their `tag` is dropped;
- `q`: a query of the search language (docs/query.md, catalog/query); a malformed one raises InvalidQuery
  when the filter is built. Its context fields (userTag, project) are resolved for the caller through
  catalog.query.context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.db.models import ExpressionWrapper, F, FloatField, QuerySet

from cvewatch.catalog import names, selectors
from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness, Weakness
from cvewatch.catalog.query import context
from cvewatch.catalog.query.compiler import Resolver, compile_query
from cvewatch.catalog.query.parser import parse
from cvewatch.core.errors import NotFound

# cvss values → half-open ranges on the CVSS v3.1 base score; "critical" includes 10.0.
CVSS_RANGES: dict[str, tuple[float, float | None]] = {
    "low": (0.0, 4.0),
    "medium": (4.0, 7.0),
    "high": (7.0, 9.0),
    "critical": (9.0, None),
}
CVSS_EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class CveFilter:
    """A CVE list's filters, normalised; an empty string is an absent (inactive) filter.

    `product` is kept only with a `vendor`, `cvss` only when it is a known value, `tag` only for a person:
    every field that is set changes the list.
    """

    search: str = ""
    vendor: str = ""
    product: str = ""
    cvss: str = ""
    weakness: str = ""
    tag: str = ""
    q: str = ""
    # Not a parameter: the caller's resolvers of the query language's context fields (and of `tag`).
    resolvers: dict[str, Resolver] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, user: Any = None, caller: Any = None, organization: Any = None
    ) -> CveFilter:
        """The filter a query mapping asks for. `user` is the person calling (None for a token); `caller` the
        request's user whatever it is (a token's too, defaults to `user`); `organization` the current one
        (the web's), which `project:` in `q` looks in. A malformed `q` raises InvalidQuery here.
        """

        def value(key: str) -> str:
            return str(params.get(key) or "").strip()

        vendor = names.vendor_from_query(value("vendor"))
        cvss = value("cvss").lower()
        is_person = user is not None and getattr(user, "is_authenticated", False)
        q = value("q")
        if q:
            parse(q)  # refuse a malformed query now, before any page is planned
        tag = value("tag") if is_person else ""
        return cls(
            search=value("search"),
            vendor=vendor,
            product=names.product_from_query(value("product")) if vendor else "",
            cvss=cvss if cvss in CVSS_RANGES or cvss == CVSS_EMPTY else "",
            weakness=value("weakness"),
            tag=tag,
            q=q,
            # Only `tag` and `q` read the resolvers: building them costs queryset set-up on every list request.
            resolvers=context.resolvers_for(
                caller=caller if caller is not None else user, organization=organization
            )
            if tag or q
            else {},
        )

    @property
    def active(self) -> frozenset[str]:
        """The names of the filters that change the list (`vendor` stands for vendor and product)."""
        return frozenset(name for name in PARAMETERS if name != "product" and getattr(self, name))

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def apply(
        self, queryset: QuerySet[Cve], *, search_index: bool = True, score_index: bool = True
    ) -> QuerySet[Cve]:
        """The CVEs of `queryset` that pass every active filter (raises NotFound as described above).

        `search_index=False` writes `q`'s substring tests row by row (for walking the CVEs in list order,
        catalog.selectors.CountedCves) instead of through the search index; `score_index=False` writes the
        `cvss` range on `cvss31_score + 0`, which no index holds, so that SQLite (no statistics) walks the list
        order's index testing each CVE's score instead of reading the whole range and sorting it.
        """
        if self.search:
            queryset = queryset.filter(selectors.search_condition(self.search))
        if self.vendor:
            vendor = selectors.vendor_by_name(name=self.vendor)
            if self.product:
                product = selectors.product_by_name(vendor=vendor, name=self.product)
                queryset = queryset.filter(selectors.linked_to(CveProduct, product_id=product.pk))
            else:
                queryset = queryset.filter(selectors.linked_to(CveVendor, vendor_id=vendor.pk))
        score = "cvss31_score"
        if self.cvss and not score_index:
            queryset = queryset.alias(listed_score=ExpressionWrapper(F(score) + 0, output_field=FloatField()))
            score = "listed_score"
        if self.cvss == CVSS_EMPTY:
            queryset = queryset.filter(**{f"{score}__isnull": True})
        elif self.cvss:
            low, high = CVSS_RANGES[self.cvss]
            queryset = queryset.filter(**{f"{score}__gte": low})
            if high is not None:
                queryset = queryset.filter(**{f"{score}__lt": high})
        if self.weakness:
            weakness_id = Weakness.objects.filter(cwe_id=self.weakness).values_list("pk", flat=True).first()
            if weakness_id is None:
                return queryset.none()
            queryset = queryset.filter(selectors.linked_to(CveWeakness, weakness_id=weakness_id))
        if self.tag:
            resolver = self.resolvers.get("userTag")
            tagged = resolver(self.tag) if resolver is not None else None
            if tagged is None:
                raise NotFound("UserTag")
            queryset = queryset.filter(tagged)
        if self.q:
            condition = compile_query(parse(self.q), resolvers=self.resolvers, search_index=search_index)
            queryset = queryset.filter(condition)
        return queryset


# The query parameters, in the order the schema lists them.
PARAMETERS = tuple(f.name for f in fields(CveFilter) if f.name != "resolvers")
NO_FILTER = CveFilter()
