"""Recorded changes -> Delivery rows, in the transaction that recorded the changes.

A change reaches a project when its CVE is linked (CveVendor / CveProduct, which include the CNA's own
`affected` data) to a vendor or product the project subscribes to, or when one of the project's query
subscriptions matches the CVE (query_matching.py; raw name "query:<name or query>"). Matching is set-based: a fixed number of
queries per batch of changes, whatever the number of changes, projects or subscriptions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cvewatch.alerts.choices import Channel, Digest
from cvewatch.alerts.models import Delivery, Notification
from cvewatch.alerts.services import payloads
from cvewatch.alerts.services.filters import passes
from cvewatch.alerts.services.query_matching import query_matches
from cvewatch.catalog.models import Change, Cve, CveProduct, CveVendor
from cvewatch.catalog.names import product_key
from cvewatch.organizations.models import ProjectProduct, ProjectVendor

_CHUNK = 900  # ids per IN (...): below SQLite's historic 999 host-parameter limit


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class _ChangeRow:
    uuid: uuid.UUID
    cve_pk: int
    created_at: datetime
    events: list[Any]
    types: list[str]


@dataclass
class _CveRow:
    cve_id: str
    description: str
    cvss31: float | None
    kev_added: date | None
    vendor_ids: set[int] = field(default_factory=set)
    product_ids: set[int] = field(default_factory=set)


def live_notifications(digest: str = Digest.IMMEDIATE) -> Q:
    """Notifications that receive alerts of this kind: enabled, on an active project, e-mail confirmed."""
    return Q(enabled=True, digest=digest, project__active=True) & (
        ~Q(channel=Channel.EMAIL) | Q(confirmed_at__isnull=False)
    )


@dataclass(frozen=True)
class DigestDay:
    """A daily report: the day it covers, its period, and the notifications that already have theirs."""

    day: date
    start: datetime
    end: datetime
    done: frozenset[int] = frozenset()


def write_deliveries(
    *, change_uuids: Sequence[uuid.UUID], now: datetime | None = None, digest: DigestDay | None = None
) -> list[Delivery]:
    """One Delivery per (notification, batch) whose filters let at least one of the changes through.

    With `digest`: one per daily notification for that day's changes instead (those in `digest.done` skipped).
    """
    now = now or timezone.now()
    live = live_notifications(Digest.DAILY if digest else Digest.IMMEDIATE)
    if not Notification.objects.filter(live).exists():  # the usual bulk import: one indexed probe, nothing else
        return []
    changes: list[_ChangeRow] = []
    for chunk in _chunks(list(change_uuids)):
        changes += [
            _ChangeRow(*row)
            for row in Change.objects.filter(uuid__in=chunk).values_list(
                "uuid", "cve_id", "created_at", "events", "types"
            )
        ]
    if not changes:
        return []
    cve_pks = sorted({c.cve_pk for c in changes})
    cves: dict[int, _CveRow] = {}
    for chunk in _chunks(cve_pks):
        for pk, *values in Cve.objects.filter(pk__in=chunk).values_list(
            "pk", "cve_id", "description", "cvss31_score", "kev_added"
        ):
            cves[pk] = _CveRow(*values)
        for cve_pk, vendor_id in CveVendor.objects.filter(cve_id__in=chunk).values_list("cve_id", "vendor_id"):
            cves[cve_pk].vendor_ids.add(vendor_id)
        for cve_pk, product_id in CveProduct.objects.filter(cve_id__in=chunk).values_list("cve_id", "product_id"):
            cves[cve_pk].product_ids.add(product_id)

    # Which subscriptions of which projects (with a live notification) these CVEs touch.
    has_live = Exists(Notification.objects.filter(live, project_id=OuterRef("project_id")))
    vendor_ids = sorted({v for cve in cves.values() for v in cve.vendor_ids})
    product_ids = sorted({p for cve in cves.values() for p in cve.product_ids})
    by_vendor: dict[int, list[tuple[int, str]]] = defaultdict(list)  # vendor id -> [(project id, raw name)]
    for chunk in _chunks(vendor_ids):
        for project_id, vendor_id, name in (
            ProjectVendor.objects.filter(has_live, vendor_id__in=chunk).values_list(
                "project_id", "vendor_id", "vendor__name"
            )
        ):
            by_vendor[vendor_id].append((project_id, name))
    by_product: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for chunk in _chunks(product_ids):
        for project_id, product_id, vendor, product in (
            ProjectProduct.objects.filter(has_live, product_id__in=chunk).values_list(
                "project_id", "product_id", "product__vendor__name", "product__name"
            )
        ):
            by_product[product_id].append((project_id, product_key(vendor, product)))
    # project id -> cve pk -> the project's subscriptions the CVE matched (query subscriptions first)
    queries = query_matches(chunks=list(_chunks(cve_pks)), has_live=has_live)
    matched = queries.matched
    if not by_vendor and not by_product and not matched:
        return []
    for cve_pk, cve in cves.items():
        for vendor_id in cve.vendor_ids:
            for project_id, name in by_vendor.get(vendor_id, ()):
                matched[project_id][cve_pk].add(name)
        for product_id in cve.product_ids:
            for project_id, name in by_product.get(product_id, ()):
                matched[project_id][cve_pk].add(name)

    project_ids = sorted(matched)
    subscriptions = _subscriptions_of(project_ids)
    for project_id, names in queries.names.items():
        subscriptions[project_id].extend(names)
    notifications = list(
        Notification.objects.filter(live, project_id__in=project_ids)
        .exclude(pk__in=digest.done if digest else ())
        .select_related(
            "project__organization"
        )
    )
    max_age = timedelta(seconds=settings.DELIVERY_MAX_AGE)
    deliveries: list[Delivery] = []
    for notification in notifications:
        touched = matched[notification.project_id]
        kept = [
            c
            for c in changes
            if c.cve_pk in touched
            and passes(
                notification,
                types=c.types,
                cvss31=cves[c.cve_pk].cvss31,
                kev_added=cves[c.cve_pk].kev_added,
            )
        ]
        if not kept:
            continue
        kept.sort(key=lambda c: (cves[c.cve_pk].cve_id, c.created_at))
        entries = [
            payloads.change_entry(
                cve_id=cves[c.cve_pk].cve_id,
                description=cves[c.cve_pk].description,
                cvss31=cves[c.cve_pk].cvss31,
                matched=touched[c.cve_pk],
                events=c.events,
            )
            for c in kept
        ]
        start = digest.start if digest else min(c.created_at for c in kept)
        end = digest.end if digest else max(c.created_at for c in kept)
        project = notification.project
        body = payloads.notification_body(
            organization=project.organization.name,
            project=project.name,
            notification=notification.name,
            subscriptions=subscriptions.get(project.pk, ()),
            changes=entries,
            period_start=start,
            period_end=end,
        )
        deliveries.append(
            Delivery(
                notification=notification,
                next_attempt_at=now,
                digest_day=digest.day if digest else None,
                created_at=now,
                expires_at=now + max_age,
                payload=body,
                period_start=start,
                period_end=end,
                change_ids=[str(c.uuid) for c in kept],
            )
        )
    Delivery.objects.bulk_create(deliveries, batch_size=500)
    if deliveries:
        from cvewatch.alerts.dispatch import deliveries_written

        transaction.on_commit(deliveries_written)
    return deliveries


def _subscriptions_of(project_ids: Sequence[int]) -> dict[int, list[str]]:
    """Every subscription (raw names) of these projects, for the body's `subscriptions`."""
    result: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(project_ids):
        for project_id, name in ProjectVendor.objects.filter(project_id__in=chunk).values_list(
            "project_id", "vendor__name"
        ):
            result[project_id].append(name)
        for project_id, vendor, product in ProjectProduct.objects.filter(project_id__in=chunk).values_list(
            "project_id", "product__vendor__name", "product__name"
        ):
            result[project_id].append(product_key(vendor, product))
    return result
