"""CPU of the import's reading process, split by step, with a digest of everything it produces.

    .venv/bin/python bench/reader_cpu.py [--limit N] [--batch-size 2000] [PATH ...]

Runs, in this one process, what a first import's reading child runs (ingest/pipeline.py's _child_main): the
walker (iter_items) over bench/import_corpus.py's inputs (or PATHs; --limit N keeps the first N), the Preparer
in prepared_batches, the Premerger, and the pickling of each batch as it crosses the pipe (without_docs, then
multiprocessing's own ForkingPickler), with the child's garbage collector thresholds (--default-gc: Python's
own). Prints the CPU seconds (time.process_time) of each step: parse, prepare, premerge, pickle, and of the
garbage collections among them. Nothing is written to a database (SQLite's adapters, in a temporary data dir).

The sha256 printed at the end covers every output as the writing process receives it (each batch unpickled):
each Prepared's key, origin, source, doc_json, digest and raw (decompressed), its NewCve (sources, values,
vendors, weaknesses), the InputRead markers and the run's stats (counts, skips, warnings). Equal digests
before and after a change mean the reading process's output did not change. Compare CPU seconds, not wall.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from import_corpus import default_paths  # bench/ is the script's directory, so on sys.path


def _raw(blob: bytes) -> bytes:
    """A stored raw copy decompressed, so the digest is of the bytes whatever their compression."""
    from cvewatch.catalog import raw_copy

    return raw_copy.decompress(blob, limit=1 << 30) or b"" if blob else b""


class Clock:
    """Accumulates process CPU seconds under named steps."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {"parse": 0.0, "prepare": 0.0, "premerge": 0.0, "pickle": 0.0}
        self.gc_spent = self.gc_start = 0.0

    def collected(self, phase: str, info: dict[str, int]) -> None:
        """A gc callback: the CPU of garbage collections (counted in the step they interrupt too)."""
        if phase == "start":
            self.gc_start = time.process_time()
        else:
            self.gc_spent += time.process_time() - self.gc_start

    def timed(self, items: Iterable[Any], step: str) -> Iterator[Any]:
        """items, with the CPU of producing each counted under step."""
        iterator = iter(items)
        clock = time.process_time
        while True:
            start = clock()
            try:
                item = next(iterator)
            except StopIteration:
                self.spent[step] += clock() - start
                return
            self.spent[step] += clock() - start
            yield item


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="read only the first N inputs")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--default-gc", action="store_true", help="Python's GC thresholds, not the reading process's"
    )
    args = parser.parse_args(argv)
    paths = args.paths or default_paths()
    if args.limit is not None:
        paths = paths[: args.limit]

    os.environ.setdefault("CVEWATCH_DATA_DIR", tempfile.mkdtemp(prefix="reader-cpu-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="cvewatch.settings", CVEWATCH_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from cvewatch.ingest.gc_tuning import BULK_THRESHOLDS
    from cvewatch.ingest.premerge import Premerger
    from cvewatch.ingest.preparing import Preparer, prepared_batches, without_docs
    from cvewatch.ingest.sources import iter_items
    from cvewatch.ingest.stats import ImportStats

    clock = Clock()
    if not args.default_gc:
        gc.set_threshold(*BULK_THRESHOLDS)
    gc.callbacks.append(clock.collected)
    digest = hashlib.sha256()
    preparer = Preparer(ImportStats())
    premerger = Premerger()
    items = clock.timed(
        iter_items(paths, on_progress=lambda origin: setattr(preparer, "origin", origin)), "parse"
    )
    batches = prepared_batches(items, preparer, batch_size=args.batch_size)
    prepared_count = new_cves = 0
    total_start = time.process_time()
    for batch, last, markers in clock.timed(batches, "prepare"):
        start = time.process_time()
        premerger(batch)
        clock.spent["premerge"] += time.process_time() - start
        start = time.process_time()
        blob = ForkingPickler.dumps(("batch", None, without_docs(batch), last, markers))
        clock.spent["pickle"] += time.process_time() - start

        _, _, received, last, markers = ForkingPickler.loads(blob)
        for prepared in received:
            prepared_count += 1
            fields = (prepared.key, prepared.origin, prepared.source, prepared.doc_json, prepared.digest)
            digest.update(repr(fields).encode())
            digest.update(_raw(prepared.raw))
            digest.update(repr(prepared.cwe).encode())
            new = prepared.new_cve
            if new is not None:
                new_cves += 1
                digest.update(repr((sorted(new.sources), new.values, new.vendors, new.weaknesses)).encode())
            digest.update(b"\n")
        digest.update(repr((last, markers)).encode())
    total = time.process_time() - total_start
    # prepare's clock ran around the walker's: the items' own CPU is parse's.
    clock.spent["prepare"] -= clock.spent["parse"]
    stats = preparer.stats
    digest.update(repr((stats.counts(), stats.skipped_items, stats.warning_items)).encode())

    print(f"inputs: {len(paths)}, prepared: {prepared_count:,}, merged ahead: {new_cves:,} records")
    for step, seconds in clock.spent.items():
        print(f"{step:10s} CPU {seconds:7.2f} s")
    reading = sum(seconds for step, seconds in clock.spent.items() if step != "parse")
    print(f"{'not parse':10s} CPU {reading:7.2f} s (prepare + premerge + pickle)")
    print(f"{'loop':10s} CPU {total:7.2f} s (hashing the outputs included)")
    print(f"{'gc':10s} CPU {clock.gc_spent:7.2f} s (in the steps above), thresholds {gc.get_threshold()}")
    print(f"sha256 {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
