"""An import collects garbage at the bulk thresholds while it runs, and leaves the process's own afterwards."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest

from cvewatch.ingest.gc_tuning import BULK_THRESHOLDS, bulk_thresholds
from cvewatch.ingest.records import CveRecord
from cvewatch.ingest.services import import_items


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_the_thresholds_hold_inside_and_come_back_after_nesting_and_errors(default_thresholds):
    with bulk_thresholds():
        assert gc.get_threshold() == BULK_THRESHOLDS
        with bulk_thresholds():
            assert gc.get_threshold() == BULK_THRESHOLDS
        assert gc.get_threshold() == BULK_THRESHOLDS  # the outer block still runs
    assert gc.get_threshold() == default_thresholds
    with pytest.raises(RuntimeError), bulk_thresholds():
        raise RuntimeError
    assert gc.get_threshold() == default_thresholds


@pytest.mark.django_db
def test_an_import_writes_under_them(default_thresholds):
    seen = []
    record = CveRecord(
        cve_id="CVE-2024-0001", source="mitre", published=datetime(2024, 3, 1, tzinfo=UTC), description="x"
    )
    import_items([record], checkpoint=lambda: seen.append(gc.get_threshold()))
    assert seen == [BULK_THRESHOLDS]
    assert gc.get_threshold() == default_thresholds
