"""Walk one very large NVD 1.1 feed and print its records, time and peak RSS (streamed parsing).

Usage: .venv/bin/python bench/big_feed.py [SIZE_MB] [--gzip]   (default 1024: a 1 GB feed)
The feed is the real 2018 feed's items, renumbered and repeated up to SIZE_MB, written to a temp dir (a
chunk at a time) and removed afterwards. Parsing only: nothing is written to a database.
"""

from __future__ import annotations

import gzip
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from cvewatch.ingest.records import CveRecord
from cvewatch.ingest.sources import Limits, MiB, iter_items

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"
SOURCE = CORPUS / "nvd-1.1" / "nvdcve-1.1-2018.json.gz"


def write_feed(path: Path, size: int) -> int:
    items = orjson.loads(gzip.decompress(SOURCE.read_bytes()))["CVE_Items"]
    written, count = 0, 0
    with path.open("wb") as out:
        out.write(b'{"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_Items": [')
        while written < size:
            for item in items:
                item["cve"]["CVE_data_meta"]["ID"] = f"CVE-2099-{count + 100000}"
                chunk = (b"," if count else b"") + orjson.dumps(item)
                out.write(chunk)
                written, count = written + len(chunk), count + 1
                if written >= size:
                    break
        out.write(b"]}")
    return count


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"]:  # the child that writes the feed, so its memory is not counted below
        print(write_feed(Path(argv[1]), int(argv[2])))
        return 0
    size = int(argv[0]) if argv and argv[0].isdigit() else 1024
    workdir = Path(tempfile.mkdtemp(prefix="cvewatch-big-feed-"))
    try:
        feed = workdir / "nvdcve-1.1-2099.json"
        writer = [sys.executable, __file__, "--write", str(feed), str(size * MiB)]
        expected = int(subprocess.run(writer, check=True, capture_output=True, text=True).stdout)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.monotonic()
        records = skipped = 0
        for item in iter_items([feed], limits=Limits(max_bytes=(size + 64) * MiB)):
            if isinstance(item, CveRecord):
                records += 1
            else:
                skipped += 1
        seconds = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"feed            {feed.stat().st_size / MiB:.0f} MiB, {expected} items")
        print(f"records         {records} ({skipped} skipped) in {seconds:.1f} s ({records / seconds:.0f}/s)")
        print(f"peak RSS        {peak:.0f} MiB (before walking: {rss_before:.0f} MiB)")
        return 0 if records == expected and not skipped else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
