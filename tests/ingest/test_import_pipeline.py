"""Reading in a second process (ingest/pipeline.py): the same run as in one process, and failures that say so."""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import re
import signal
import time
from pathlib import Path

import pytest

from cvewatch.catalog.choices import ImportStatus
from cvewatch.catalog.models import (
    Change,
    Cve,
    CveProduct,
    CveVendor,
    CveWeakness,
    ImportRun,
    Product,
    SourceRecord,
    Vendor,
    Weakness,
)
from cvewatch.ingest import pipeline, preparing
from cvewatch.ingest.pipeline import ReaderFailed
from cvewatch.ingest.services import import_paths
from cvewatch.ingest.stats import MAX_RUN_ERRORS
from cvewatch.ingest.writer import BatchWriter
from tests.factories import CveFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not pipeline.available(), reason="needs fork and two cores"),
]

DATA = Path(__file__).resolve().parent.parent / "data"


def _inputs(tmp_path: Path) -> list[Path]:
    """Every shared fixture (bad ones included: OSV records, a KB stub), plus broken files of our own."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "garbage.json").write_bytes(b'{"dataType": "CVE_RECORD", "cveMetadata": 7}')
    (broken / "truncated.json.gz").write_bytes(b"\x1f\x8b\x08\x00truncated")
    (broken / "empty.json").write_bytes(b"")
    return [DATA, broken, tmp_path / "missing.json"]


def _catalog() -> dict[str, list[tuple[object, ...]]]:
    """What the import wrote, without the values that differ by run (ids, times, uuids)."""
    return {
        "cves": list(Cve.objects.order_by("cve_id").values_list("cve_id", "digest", "vendors", "metrics")),
        "records": list(
            SourceRecord.objects.order_by("cve_id", "source").values_list(
                "cve_id", "source", "digest", "record", "raw"
            )
        ),
        "changes": sorted(Change.objects.values_list("cve__cve_id", "types")),
        "links": [
            CveVendor.objects.count(),
            CveProduct.objects.count(),
            CveWeakness.objects.count(),
        ],  # fmt: skip
    }


def _wipe() -> None:
    for model in (Change, CveVendor, CveProduct, CveWeakness, Cve, SourceRecord, Product, Vendor, Weakness):
        model.objects.all().delete()


def test_a_run_read_in_a_second_process_is_the_run_read_in_one(tmp_path, caplog):
    paths = _inputs(tmp_path)
    one_run, one = import_paths(paths, batch_size=7, pipeline=False)
    one_catalog = _catalog()
    _wipe()
    with caplog.at_level(logging.INFO, logger="cvewatch.ingest.pipeline"):
        two_run, two = import_paths(paths, batch_size=7, pipeline=True)
    # How long the writer waited for the reader, for whoever tunes an import (the reader says its own).
    assert re.search(r"the writing process waited \d+\.\d s for the reading process", caplog.text)

    assert two.counts() == one.counts()
    assert two.skipped_items == one.skipped_items  # the same skips, in the same order
    assert two.warning_items == one.warning_items
    assert list(two.skip_reasons) == list(one.skip_reasons)  # the summary's ties break by first occurrence
    two_run.refresh_from_db()
    one_run.refresh_from_db()
    assert (two_run.status, two_run.counts, two_run.errors) == (
        one_run.status,
        one_run.counts,
        one_run.errors,
    )
    assert two_run.status == ImportStatus.PARTIAL
    assert one.skipped >= 4 and one.cve_records > 100  # the bad inputs were there, and so was real data
    assert _catalog() == one_catalog


def test_many_skips_keep_only_the_first_ones_in_either_process(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(MAX_RUN_ERRORS + 20):
        (bad / f"{i:05}.json").write_bytes(b"[]")
    _, one = import_paths([bad], pipeline=False)
    _, two = import_paths([bad], pipeline=True)
    assert two.skipped == one.skipped == MAX_RUN_ERRORS + 20
    assert two.skipped_items == one.skipped_items and len(two.skipped_items) == MAX_RUN_ERRORS


def test_an_error_in_the_reading_process_stops_the_import_and_says_why(monkeypatch):
    prepare = preparing.Preparer.prepare

    def failing(self, item):
        if getattr(item, "cve_id", "") == "CVE-2017-3881":
            raise RuntimeError("a bug in the preparer")
        return prepare(self, item)

    monkeypatch.setattr(preparing.Preparer, "prepare", failing)  # the child is forked: it has the patch too
    with pytest.raises(ReaderFailed, match="RuntimeError: a bug in the preparer"):
        import_paths([DATA], batch_size=5, pipeline=True)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "a bug in the preparer" in run.errors[-1]["reason"]


def test_a_killed_reading_process_fails_the_import_at_once(monkeypatch):
    def killed(self, item):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(preparing.Preparer, "prepare", killed)
    started = time.monotonic()
    with pytest.raises(ReaderFailed, match="killed by SIGKILL"):
        import_paths([DATA], pipeline=True)
    assert time.monotonic() - started < 30  # noticed, not waited for
    assert ImportRun.objects.get().status == ImportStatus.FAILED


def test_a_parent_that_stops_early_ends_the_reading_process(monkeypatch):
    children: list[pipeline.Reader] = []
    opened = pipeline.Reader.__init__

    def remembered(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        children.append(self)

    def interrupted(self, batch, *, last=False):
        raise KeyboardInterrupt  # Ctrl-C while writing

    monkeypatch.setattr(pipeline.Reader, "__init__", remembered)
    monkeypatch.setattr("cvewatch.ingest.services._Importer.flush", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_paths([DATA], batch_size=3, pipeline=True)
    assert children and not children[0].process.is_alive() and not children[0].receiver.is_alive()
    assert ImportRun.objects.get().status == ImportStatus.FAILED


def test_large_inputs_take_the_pipeline_small_ones_do_not(tmp_path):
    small = tmp_path / "small.json"
    small.write_bytes(b"x" * 1000)
    assert not pipeline.worth_it([small, DATA / "cve5"])
    assert pipeline.worth_it([small], min_bytes=1000)
    assert pipeline.worth_it([tmp_path], min_bytes=1000)


def test_a_first_import_skips_lookups_yet_writes_what_a_later_one_would(tmp_path):
    """Into an empty catalog the writer looks up only CVEs this run wrote; the catalog comes out the same."""
    paths = _inputs(tmp_path)
    _, first = import_paths(paths, batch_size=7, pipeline=False)
    first_catalog = _catalog()
    _wipe()
    CveFactory(cve_id="CVE-1990-0001")  # not empty: every CVE is looked up
    _, later = import_paths(paths, batch_size=7, pipeline=False)
    Cve.objects.filter(cve_id="CVE-1990-0001").delete()
    assert later.counts() == first.counts()
    assert _catalog() == first_catalog


@pytest.mark.skipif(not pipeline.available(), reason="needs fork and two cores")
def test_records_cross_the_pipe_as_encoded_docs_and_write_what_dicts_would(tmp_path, monkeypatch):
    """Not a first import (no merging ahead): the docs still travel as doc_json only, decoded where merged."""
    paths = _inputs(tmp_path)
    CveFactory(cve_id="CVE-1990-0001")  # not empty
    _, one = import_paths(paths, batch_size=7, pipeline=False)
    one_catalog = _catalog()
    _wipe()
    CveFactory(cve_id="CVE-1990-0001")
    arrived: list[bool] = []
    write = BatchWriter.write

    def seen(self, batch, **kwargs):
        arrived.extend(p.doc is None and p.doc_json is not None for p in batch if p.cwe is None)
        return write(self, batch, **kwargs)

    monkeypatch.setattr(BatchWriter, "write", seen)
    _, two = import_paths(paths, batch_size=7, pipeline=True)
    assert len(arrived) > 100 and all(arrived)
    assert two.counts() == one.counts()
    assert _catalog() == one_catalog


def test_a_reading_process_whose_parent_is_gone_ends():
    """A parent killed mid-import closes its end of the pipe: the child's next send fails and it exits."""
    reader = pipeline.Reader([DATA], batch_size=5)
    reader.conn.close()  # what the kernel does for a parent killed by SIGKILL
    reader.process.join(120)
    assert reader.process.exitcode == 1


def test_the_parent_receives_batches_ahead_of_the_writer_and_stops_receiving_on_close():
    """While the writer is busy, a thread of the parent takes AHEAD_BATCHES messages off the pipe (decoded, in
    order), so the child reads on; closing ends the child and that thread, a full inbox or not."""
    reader = pipeline.Reader([DATA], batch_size=5)
    try:
        deadline = time.monotonic() + 60
        while not reader.inbox.full():
            assert time.monotonic() < deadline, "the receiving thread did not read ahead"
            time.sleep(0.05)
        assert reader.process.is_alive()  # blocked on the next send: the inbox is the bound
        assert {reader.receive()[0] for _ in range(pipeline.AHEAD_BATCHES)} <= {"batch", "counts"}
    finally:
        reader.close()
    assert not reader.process.is_alive() and not reader.receiver.is_alive()


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped (its parent was killed)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_a_reading_process_whose_parent_is_killed_ends():
    """SIGKILL to the parent (its receiving thread with it) closes the pipe: the child's next send fails."""
    context = multiprocessing.get_context("fork")
    told, tell = context.Pipe(duplex=False)

    def parent() -> None:
        reader = pipeline.Reader([DATA], batch_size=5)
        tell.send(reader.process.pid)
        time.sleep(600)

    process = context.Process(target=parent)
    process.start()
    child = told.recv()
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    deadline = time.monotonic() + 120
    while not _gone(child):
        assert time.monotonic() < deadline, "the reading process outlived its killed parent"
        time.sleep(0.1)


def test_the_pipe_holds_a_mebibyte_so_a_batch_crosses_in_few_reads():
    """The parent reads each piece of a batch with the GIL taken back from the writer: 64 KiB pieces made the
    child wait seconds a batch. Linux lets any process ask for 1 MiB (pipe-max-size)."""
    reader = pipeline.Reader([DATA], batch_size=5)
    try:
        assert fcntl.fcntl(reader.conn.fileno(), fcntl.F_GETPIPE_SZ) == pipeline.PIPE_BYTES == 2**20
    finally:
        reader.close()


def test_a_pipe_the_system_will_not_widen_keeps_its_default(monkeypatch):
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    real = fcntl.fcntl
    default = real(receiving.fileno(), fcntl.F_GETPIPE_SZ)

    def refuse(fd, command, *args):
        if command == fcntl.F_SETPIPE_SZ:
            raise PermissionError(1, "Operation not permitted")
        return real(fd, command, *args)

    monkeypatch.setattr(pipeline.fcntl, "fcntl", refuse)
    try:
        assert pipeline.widen_pipe(receiving) == default < pipeline.PIPE_BYTES
        sending.send_bytes(b"still works")
        assert receiving.recv_bytes() == b"still works"
    finally:
        receiving.close()
        sending.close()
