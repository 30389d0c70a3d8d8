"""The enqueue rules on both queue stores (the SQLite file and a real Redis): claims and after-commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from cvewatch.jobs import queue
from cvewatch.jobs.queue import huey
from cvewatch.jobs.tasks.sync import queue_sync


def test_a_claim_is_taken_once_until_released(queue_store):
    assert queue.claim("sync:kev", stale_after=60)
    assert not queue.claim("sync:kev", stale_after=60)
    assert queue.claim("sync:epss", stale_after=60)  # claims are per key
    queue.release("sync:kev")
    assert queue.claim("sync:kev", stale_after=60)


def test_a_stale_claim_is_taken_over(queue_store):
    assert queue.claim("sync:kev", stale_after=60)
    huey.put("claim:sync:kev", 0.0)  # taken long ago by a worker that died
    assert queue.claim("sync:kev", stale_after=60)
    assert not queue.claim("sync:kev", stale_after=60)


def _queued() -> list[tuple[str, tuple]]:
    return [(task.name, task.args) for task in huey.pending()]


@pytest.mark.django_db(transaction=True)
def test_a_sync_is_queued_only_after_the_transaction_commits_and_only_once(queue_store):
    with transaction.atomic():
        queue_sync("kev")
        assert _queued() == []  # not before the commit: a worker must see what the transaction wrote
    assert _queued() == [("sync_source", ("kev", False))]
    queue_sync("kev")  # autocommit: at once, but the source is queued already
    queue_sync("epss")
    assert _queued() == [
        ("sync_source", ("kev", False)),
        ("sync_source", ("epss", False)),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_queues_nothing_and_claims_nothing(queue_store):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_sync("kev")
        raise RuntimeError("the request failed")
    assert _queued() == []
    assert not queue.is_claimed("sync:kev")
    queue_sync("kev")
    assert len(_queued()) == 1
