"""`cvewatch sync` reports names too long to store as left out of otherwise imported records, not as errors."""

from __future__ import annotations

import datetime as dt

from cvewatch.sync.management.commands.sync import run_report
from cvewatch.sync.models import SyncRun, SyncSource


def test_the_run_report_says_what_was_left_out_and_that_the_rest_is_in():
    started = dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC)
    run = SyncRun(
        pk=7,
        source=SyncSource(name="cvelist"),
        status="succeeded",
        started_at=started,
        finished_at=started + dt.timedelta(seconds=3),
        counts={"read": 10, "created": 10, "warnings": 2, "warning_reasons": {"names over 255 characters": 2}},
    )
    text = run_report(run)
    assert "  left out  2 CVE records imported without a name too long to store (the rest of each record is in):" in text
    assert "       2  names over 255 characters" in text
    assert "warning" not in text
    clean = SyncRun(pk=8, source=SyncSource(name="kev"), status="succeeded", started_at=started, counts={"read": 1})
    assert "left out" not in run_report(clean)
