"""The service interface the job engine calls: run_source, run_sources, due_sources, and the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cvewatch.catalog.models import Cve, ImportRun
from cvewatch.sync import lease, services
from cvewatch.sync.choices import RunStatus
from cvewatch.sync.errors import UnknownSource
from cvewatch.sync.models import SyncRun, SyncSource
from tests.conftest import DATA

pytestmark = pytest.mark.django_db

KEV = str(DATA / "kev" / "kev_subset.json")
NVD = str(DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json")


def test_run_source_records_the_run_and_moves_the_cursor(sync_urls):
    sync_urls(nvd=NVD)
    run = services.run_source(name="nvd", worker="w1")
    assert run is not None and run.status == RunStatus.SUCCEEDED
    assert run.counts["created"] == Cve.objects.count() == 33
    assert run.cursor_before == {} and run.cursor_after["feed"] == "nvdcve-1.1-fixtures.json"
    assert run.finished_at is not None and run.worker == "w1"
    source = SyncSource.objects.get(name="nvd")
    assert source.cursor == run.cursor_after
    assert source.lease_owner == "" and source.last_success_at == run.finished_at
    assert ImportRun.objects.get(pk=run.import_run_id).status == "succeeded"


def test_a_held_lease_makes_run_source_return_none(sync_urls):
    sync_urls(kev=KEV)
    assert lease.claim(name="kev", worker="other", seconds=60)
    assert services.run_source(name="kev", worker="me") is None
    assert not SyncRun.objects.exists()


def test_an_expired_lease_is_taken_over_and_the_dead_run_marked_interrupted(sync_urls):
    sync_urls(kev=KEV)
    assert lease.claim(name="kev", worker="dead", seconds=60)
    source = SyncSource.objects.get(name="kev")
    dead = SyncRun.objects.create(source=source, worker="dead")
    assert not lease.claim(name="kev", worker="me", seconds=60)
    SyncSource.objects.filter(name="kev").update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    run = services.run_source(name="kev", worker="me")
    assert run is not None and run.status == RunStatus.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == RunStatus.INTERRUPTED and "lease expired" in dead.errors


def test_renew_after_losing_the_lease_raises():
    assert lease.claim(name="kev", worker="a", seconds=60)
    SyncSource.objects.filter(name="kev").update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.claim(name="kev", worker="b", seconds=60)
    with pytest.raises(lease.LeaseLost):
        lease.renew(name="kev", worker="a")


def test_run_sources_goes_on_after_a_failure(sync_urls, settings, tmp_path):
    sync_urls(kev=KEV, nvd=str(tmp_path / "missing"))
    runs = services.run_sources(names=["nvd", "kev"])
    assert [r.status for r in runs if r] == [RunStatus.FAILED, RunStatus.SUCCEEDED]
    assert "no such file" in runs[0].errors
    settings.SYNC_SOURCES = ["kev"]
    assert [r.source.name for r in services.run_sources() if r] == ["kev"]


def test_unknown_source_names_are_refused():
    with pytest.raises(UnknownSource):
        services.run_source(name="osv")
    with pytest.raises(UnknownSource):
        services.run_sources(names=["kev", "nope"])


def test_due_sources(sync_urls, settings):
    settings.SYNC_SOURCES = ["kev", "nvd"]
    settings.SYNC_INTERVAL = 3600
    sync_urls(kev=KEV, nvd="/nonexistent")
    assert services.due_sources() == ["kev", "nvd"]  # never ran
    services.run_sources()
    now = timezone.now()
    assert services.due_sources(now=now) == []  # kev ran now; nvd failed just now: retried later
    assert services.due_sources(now=now + timedelta(seconds=services.RETRY_FAILED_AFTER + 1)) == ["nvd"]
    assert services.due_sources(now=now + timedelta(seconds=3601)) == ["kev", "nvd"]
    lease.claim(name="kev", worker="busy", seconds=7200)
    assert services.due_sources(now=now + timedelta(seconds=3601)) == ["nvd"]  # running right now


@pytest.mark.django_db(transaction=True)
def test_the_cursor_commits_with_the_last_batch_and_rolls_back_with_it():
    """A lease lost before the last batch commits: that batch and the cursor roll back together."""
    from cvewatch.ingest.sources import iter_items
    from cvewatch.sync.importing import import_step

    assert lease.claim(name="nvd", worker="me", seconds=60)
    import_run = ImportRun.objects.create()

    def items_then_the_lease_is_stolen():
        yield from iter_items([NVD])
        SyncSource.objects.filter(name="nvd").update(lease_owner="thief")

    with pytest.raises(lease.LeaseLost):
        import_step(
            items_then_the_lease_is_stolen(),
            run=import_run,
            checkpoint=lambda: lease.renew(name="nvd", worker="me", cursor={"feed": "x"}),
            heartbeat=lambda: None,
        )
    assert not Cve.objects.exists()  # one batch: nothing of it committed
    assert SyncSource.objects.get(name="nvd").cursor == {}

    SyncSource.objects.filter(name="nvd").update(lease_owner="me")
    import_step(
        iter_items([NVD]), run=import_run, heartbeat=lambda: None,
        checkpoint=lambda: lease.renew(name="nvd", worker="me", cursor={"feed": "x"}),
    )  # fmt: skip
    assert Cve.objects.count() == 33 and SyncSource.objects.get(name="nvd").cursor == {"feed": "x"}
