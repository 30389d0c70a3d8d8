"""The search generation (catalog/search.py): `search=`'s count is reused only while no write can have changed it.

These tests commit (transaction=True): a count is filed only outside a writing transaction.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from cvewatch.catalog import search
from cvewatch.catalog.models import Cve, CveVendor, Vendor
from tests.factories import CveFactory
from tests.support.engines import postgresql_only

pytestmark = pytest.mark.django_db(transaction=True)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return Cve.objects.filter(description__icontains="overflow").count()


def test_a_count_is_reused_until_a_write_that_can_change_it():
    cve = CveFactory(description="A heap overflow")
    counter = Counter()
    assert search.count_once_per_generation("overflow", counter) == 1
    assert search.count_once_per_generation("overflow", counter) == 1
    assert counter.calls == 1
    Cve.objects.filter(pk=cve.pk).update(description="A stack overflow")  # an UPDATE of description
    assert search.count_once_per_generation("overflow", counter) == 1
    assert counter.calls == 2
    Cve.objects.filter(pk=cve.pk).update(epss_score=0.5)  # no column a search reads: the count stands
    search.count_once_per_generation("overflow", counter)
    assert counter.calls == 2
    CveFactory(description="another overflow")  # an INSERT
    assert search.count_once_per_generation("overflow", counter) == 2
    vendor = Vendor.objects.create(name="acme")
    CveVendor.objects.create(cve=cve, vendor=vendor)  # a link
    search.count_once_per_generation("overflow", counter)
    assert counter.calls == 4
    Vendor.objects.filter(pk=vendor.pk).update(name="acme2")  # a name
    search.count_once_per_generation("overflow", counter)
    assert counter.calls == 5
    Cve.objects.filter(pk=cve.pk).delete()  # a DELETE (and its links)
    assert search.count_once_per_generation("overflow", counter) == 1
    assert counter.calls == 6


def test_a_count_read_inside_a_writing_transaction_is_not_filed():
    CveFactory(description="A heap overflow")
    counter = Counter()
    with transaction.atomic():
        CveFactory(description="uncommitted overflow")
        assert search.count_once_per_generation("overflow", counter) == 2
        transaction.set_rollback(True)
    assert search.count_once_per_generation("overflow", counter) == 1
    assert counter.calls == 2
    CveFactory(description="a committed overflow")  # whatever generation it makes, it is a fresh one
    assert search.count_once_per_generation("overflow", counter) == 2
    assert counter.calls == 3


@postgresql_only
def test_no_count_is_filed_while_another_writer_is_between_its_write_and_its_commit():
    cve = CveFactory(description="A heap overflow")
    written, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                Cve.objects.filter(pk=cve.pk).update(description="no longer")
                written.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(30)
        counter = Counter()
        assert search.count_once_per_generation("overflow", counter) == 1  # the writer has not committed
        assert search.count_once_per_generation("overflow", counter) == 1
        assert counter.calls == 2  # and was not filed
    finally:
        release.set()
        thread.join(30)
    assert search.count_once_per_generation("overflow", counter) == 0


def test_a_text_only_query_reuses_its_count_and_others_never_do():
    from cvewatch.catalog import selectors
    from cvewatch.catalog.filters import CveFilter

    cve = CveFactory(title="An overflow", description="text")

    def count(q: str) -> int:
        return selectors.cve_listing(cve_filter=CveFilter(q=q)).count()

    assert count("title:overflow OR description:nothing") == 1
    Cve.objects.filter(pk=cve.pk).update(title="An underflow")  # a title: the generation moves
    assert count("title:overflow OR description:nothing") == 0
    assert count("title:underflow AND cvss31>=9") == 0
    Cve.objects.filter(pk=cve.pk).update(cvss31_score=9.5)  # not followed: such a query is never reused
    assert count("title:underflow AND cvss31>=9") == 1


def test_which_queries_follow_the_generation():
    from cvewatch.catalog.query.compiler import follows_search_generation
    from cvewatch.catalog.query.parser import parse

    assert follows_search_generation(parse('description:"remote code" OR title:overflow'))
    assert follows_search_generation(parse("NOT vendor:microsoft AND (cve:CVE-2021 OR product=linux_kernel)"))
    assert follows_search_generation(parse("log4j"))
    for query in ("cwe:CWE-79", "kev:true", "created<=7d", "epss>=50", "log4j AND cvss31>=9", "userTag:x"):
        assert not follows_search_generation(parse(query)), query
