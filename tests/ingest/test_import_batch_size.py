"""import_paths' batch size: 2,000 items a transaction in one process, 10,000 when a second process reads, and
whatever the caller asks for either way."""

from __future__ import annotations

import pytest

from cvewatch.ingest import pipeline, services
from tests.ingest.test_import_pipeline import _inputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def sizes(monkeypatch):
    seen: list[int] = []
    init = services._Importer.__init__

    def spy(self, *args, batch_size: int, **kwargs):
        seen.append(batch_size)
        init(self, *args, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(services._Importer, "__init__", spy)
    return seen


@pytest.mark.skipif(not pipeline.available(), reason="needs fork and two cores")
@pytest.mark.parametrize(
    ("two_processes", "asked", "expected"),
    [
        (False, None, services.DEFAULT_BATCH_SIZE),
        (True, None, services.PIPELINE_BATCH_SIZE),
        (True, 7, 7),
        (False, 7, 7),
    ],
)
def test_the_batch_size_follows_the_processes_unless_asked(tmp_path, sizes, two_processes, asked, expected):
    run, _ = services.import_paths(_inputs(tmp_path), batch_size=asked, pipeline=two_processes)
    assert sizes == [expected]
    assert run.status == "partial"  # the broken inputs are skipped, the rest written
