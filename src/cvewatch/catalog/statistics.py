"""Aggregate reads of the catalog: CVE counts per vendor and product, and the dashboard's statistics.

Counts per vendor or product are read for one page of names at a time, each a range of the link table's
(target, cve) unique index: the cost follows the CVEs of the names shown, never the catalog's size.

The catalog-wide statistics (CVEs per year, the CVSS distribution, top vendors and weaknesses) read every
CVE or link row once: ~1 s at 213k CVEs on a loaded machine. They are cached (Django's cache) for STATISTICS_TTL seconds,
keyed by the newest import run and change, so a finished import shows in the next page view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Func, IntegerField, Max
from django.db.models.functions import Cast, ExtractYear, Floor, Substr

from cvewatch.catalog.models import (
    Change,
    Cve,
    CveProduct,
    CveVendor,
    CveWeakness,
    ImportRun,
    Vendor,
    Weakness,
)

STATISTICS_TTL = 600
TOP = 10


def cve_counts_of_vendors(*, vendor_ids: Iterable[int]) -> dict[int, int]:
    """{vendor id: number of CVEs} for these vendors (absent: none)."""
    ids = list(vendor_ids)
    if not ids:
        return {}
    rows = CveVendor.objects.filter(vendor_id__in=ids).values("vendor_id").annotate(n=Count("cve_id")).order_by()
    return {row["vendor_id"]: row["n"] for row in rows}


def cve_counts_of_products(*, product_ids: Iterable[int]) -> dict[int, int]:
    """{product id: number of CVEs} for these products (absent: none)."""
    ids = list(product_ids)
    if not ids:
        return {}
    rows = (
        CveProduct.objects.filter(product_id__in=ids).values("product_id").annotate(n=Count("cve_id")).order_by()
    )
    return {row["product_id"]: row["n"] for row in rows}


@dataclass(frozen=True, slots=True)
class CatalogStatistics:
    """What the dashboard's charts show; every list is (label, count) in display order."""

    total: int
    per_year: list[tuple[str, int]]
    cvss: list[tuple[str, int]]  # "0".."9" (the score's integer part, 10 counted with 9) and "none"
    top_vendors: list[tuple[str, int]]
    top_weaknesses: list[tuple[str, int, str]]  # (CWE id, count, name)


def catalog_statistics(*, version: str | None = None) -> CatalogStatistics:
    """The catalog-wide statistics, from the cache when the catalog has not changed since they were read.

    `version` is catalog_version() when the caller already read it (to cache what it derives from these).
    """
    version = version or catalog_version()
    key = f"cvewatch.catalog.statistics:{version}"
    found = cache.get(key)
    if found is None:
        found = _read_statistics()
        cache.set(key, found, STATISTICS_TTL)
    return found


def catalog_version() -> str:
    """Changes with every import: the newest run and the newest change (two index reads)."""
    run = ImportRun.objects.aggregate(top=Max("id"))["top"]
    change = Change.objects.aggregate(top=Max("id"))["top"]
    return f"{run}-{change}"


def _year_and_bucket() -> tuple[Func, Func]:
    """The year of `created_at` and the integer part of the CVSS score, as each engine computes them fast.

    On SQLite, Django's EXTRACT and FLOOR are Python functions called once per row (6 s at 213k CVEs under
    load); the stored text's first four characters and an integer cast (scores are never negative) are
    native and read the covering indexes. PostgreSQL's CAST rounds, so it keeps FLOOR.
    """
    if connection.vendor == "sqlite":
        return Substr("created_at", 1, 4), Cast("cvss31_score", IntegerField())
    return ExtractYear("created_at"), Floor("cvss31_score")


def _read_statistics() -> CatalogStatistics:
    year, bucket = _year_and_bucket()
    years = Cve.objects.annotate(year=year).values("year").annotate(n=Count("id")).order_by("year")
    counted = {int(row["year"]): row["n"] for row in years if row["year"] is not None}
    # Every year from the first to the last, none left out: a chart's axis must not skip empty years.
    span = range(min(counted), max(counted) + 1) if counted else range(0)
    per_year = [(str(year), counted.get(year, 0)) for year in span]
    buckets = Cve.objects.annotate(bucket=bucket).values("bucket").annotate(n=Count("id")).order_by()
    by_bucket: dict[str, int] = {}
    for row in buckets:
        bucket = row["bucket"]
        label = "none" if bucket is None else str(min(int(bucket), 9))
        by_bucket[label] = by_bucket.get(label, 0) + row["n"]
    cvss = [(str(n), by_bucket.get(str(n), 0)) for n in range(10)] + [("none", by_bucket.get("none", 0))]
    vendor_rows = list(
        CveVendor.objects.values("vendor_id").annotate(n=Count("cve_id")).order_by("-n", "vendor_id")[:TOP]
    )
    vendor_names = dict(
        Vendor.objects.filter(pk__in=[r["vendor_id"] for r in vendor_rows]).values_list("pk", "name")
    )
    weakness_rows = list(
        CveWeakness.objects.values("weakness_id").annotate(n=Count("cve_id")).order_by("-n", "weakness_id")[:TOP]
    )
    weaknesses = {
        pk: (cwe_id, name)
        for pk, cwe_id, name in Weakness.objects.filter(pk__in=[r["weakness_id"] for r in weakness_rows]).values_list(
            "pk", "cwe_id", "name"
        )
    }
    return CatalogStatistics(
        total=sum(n for _, n in per_year),
        per_year=per_year,
        cvss=cvss,
        top_vendors=[(vendor_names.get(r["vendor_id"], "?"), r["n"]) for r in vendor_rows],
        top_weaknesses=[
            (weaknesses.get(r["weakness_id"], ("?", ""))[0], r["n"], weaknesses.get(r["weakness_id"], ("?", ""))[1])
            for r in weakness_rows
        ],
    )
