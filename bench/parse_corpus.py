"""Parse the whole shared corpus through the walker and print speed, counts and peak memory.

Usage: .venv/bin/python bench/parse_corpus.py [--default-gc] [PATH ...]   (default: bench/import_corpus.py's)
Parsing only: nothing is written to a database. The default inputs are exactly bench/import_corpus.py's (the
NVD 1.1 modified/recent snapshots included), so "import time vs parse time" compares like with like. The
garbage collector runs at the thresholds an import uses (ingest/gc_tuning.py), so the parse is the same work
as in the import's reading process; --default-gc keeps Python's own (more collections: a slower parse).
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from import_corpus import default_paths  # bench/ is the script's directory, so on sys.path

from cvewatch.ingest.gc_tuning import BULK_THRESHOLDS
from cvewatch.ingest.records import CveRecord, Skipped
from cvewatch.ingest.sources import iter_items


def main(argv: list[str]) -> int:
    default_gc = "--default-gc" in argv
    argv = [a for a in argv if a != "--default-gc"]
    paths = [Path(p) for p in argv] or default_paths()
    if not default_gc:
        gc.set_threshold(*BULK_THRESHOLDS)
    counts: Counter[str] = Counter()
    cve_ids: set[str] = set()
    skipped_examples: list[Skipped] = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    for item in iter_items(paths):
        if isinstance(item, CveRecord):
            counts[f"CveRecord[{item.source}]"] += 1
            cve_ids.add(item.cve_id)
            if item.state == "REJECTED":
                counts[f"  of which REJECTED[{item.source}]"] += 1
        else:
            counts[type(item).__name__] += 1
            if isinstance(item, Skipped) and len(skipped_examples) < 10:
                skipped_examples.append(item)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    total = sum(v for k, v in counts.items() if not k.startswith("  "))
    records = sum(v for k, v in counts.items() if k.startswith("CveRecord"))

    print("inputs:", *[str(p) for p in paths], sep="\n  ")
    for key in sorted(counts):
        print(f"{key:40s} {counts[key]:>9,}")
    print(f"{'distinct CVE ids':40s} {len(cve_ids):>9,}")
    print(f"{'items (all kinds)':40s} {total:>9,}")
    print(f"wall time {wall:.1f} s, CPU time {cpu:.1f} s (GC thresholds {gc.get_threshold()})")
    print(f"CVE records/s {records / wall:,.0f}   items/s {total / wall:,.0f}")
    print(f"peak RSS {peak_kib / 1024:,.0f} MiB")
    for skipped in skipped_examples:
        print(f"skipped: {skipped.origin}: {skipped.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
