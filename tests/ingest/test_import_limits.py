"""What one bad input may cost: decompression bombs, over-size inputs, deep nesting, running out of memory."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile
import textwrap
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.records import CveRecord, KevEntry, Skipped
from cvewatch.ingest.sources import Limits, MiB, iter_items

DATA = Path(__file__).resolve().parent.parent / "data"
KEV = DATA / "kev" / "kev_subset.json"
CVE = sorted((DATA / "cve5").glob("CVE-*.json"))[0]


def _zeros_deflated(size: int, *, wbits: int) -> bytes:
    """size zero bytes, compressed a MiB at a time (never held whole)."""
    out = io.BytesIO()
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(MiB)
    for _ in range(size // MiB):
        out.write(compressor.compress(block))
    out.write(compressor.flush())
    return out.getvalue()


def _zip_bomb(path: Path, size: int) -> None:
    """A zip whose first member inflates to size zeros, then a real KEV catalog."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("a-bomb.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as member:  # streamed: the zeros are never held whole
            block = bytes(MiB)
            for _ in range(size // MiB):
                member.write(block)
        zf.write(KEV, arcname="b-kev.json")
    assert path.stat().st_size < size // 100  # a bomb: under 1 % of what it inflates to


def _peak_mib(paths: list[Path], limits: Limits | None = None) -> tuple[list[object], float]:
    tracemalloc.start()
    try:
        items = list(iter_items(paths, limits=limits))
        return items, tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def _walk_peak_mib(path: Path, limits: Limits) -> float:
    """Peak memory of walking path, the items dropped as they come (as the importer's batches do)."""
    tracemalloc.start()
    try:
        for _item in iter_items([path], limits=limits):
            pass
        return tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_member_is_skipped_with_its_reason_and_the_archive_goes_on(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    _zip_bomb(bomb, 256 * MiB)
    items, peak = _peak_mib([bomb])
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.origin for s in skipped] == [f"{bomb}!a-bomb.json"]
    assert "CVEWATCH_IMPORT_MAX_RATIO" in skipped[0].reason and "bomb" in skipped[0].reason
    assert sum(isinstance(i, KevEntry) for i in items) == 25
    assert peak < 40, f"reading the bomb held {peak:.0f} MiB"


def test_a_json_gz_bomb_is_skipped_and_the_next_file_is_imported(tmp_path: Path) -> None:
    (tmp_path / "a-bomb.json.gz").write_bytes(_zeros_deflated(256 * MiB, wbits=31))
    (tmp_path / "b-kev.json").write_bytes(KEV.read_bytes())
    items, peak = _peak_mib([tmp_path])
    (skip,) = [i for i in items if isinstance(i, Skipped)]
    assert skip.origin == str(tmp_path / "a-bomb.json.gz") and "CVEWATCH_IMPORT_MAX_RATIO" in skip.reason
    assert sum(isinstance(i, KevEntry) for i in items) == 25
    assert peak < 40, f"reading the bomb held {peak:.0f} MiB"


def test_inputs_over_the_size_cap_are_skipped_wherever_they_are(tmp_path: Path) -> None:
    limits = Limits(max_bytes=MiB)
    big = b'{"catalogVersion": "1", "vulnerabilities": []}' + b" " * (2 * MiB)
    (tmp_path / "a-big.json").write_bytes(big)
    (tmp_path / "b-big.json.gz").write_bytes(gzip.compress(big))
    with tarfile.open(tmp_path / "c-bundle.tar.gz", "w:gz") as tar:
        for name, data in (("big.json", big), ("kev.json", KEV.read_bytes())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(tmp_path / "d-bundle.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.json", big)
        zf.write(CVE, arcname=CVE.name)
    items = list(iter_items([tmp_path], limits=limits))
    skipped = {Path(s.origin).name: s.reason for s in items if isinstance(s, Skipped)}
    assert set(skipped) == {"a-big.json", "b-big.json.gz", "c-bundle.tar.gz!big.json", "d-bundle.zip!big.json"}
    assert all("over the 1 MiB" in r and "CVEWATCH_IMPORT_MAX_MB" in r for r in skipped.values())
    assert sum(isinstance(i, KevEntry) for i in items) == 25
    assert any(isinstance(i, CveRecord) and i.cve_id == CVE.stem for i in items)


def test_the_configured_limit_applies(tmp_path: Path, settings: pytest.FixtureRequest) -> None:
    settings.IMPORT_MAX_MB = 1  # type: ignore[attr-defined]
    feed = tmp_path / "kev.json"
    feed.write_bytes(KEV.read_bytes() + b" " * (2 * MiB))
    (skip,) = iter_items([feed])
    assert isinstance(skip, Skipped) and "over the 1 MiB" in skip.reason


def test_deeply_nested_configurations_are_refused_cheaply(tmp_path: Path) -> None:
    # 1.2 MB: 400 levels of children with 400,000 siblings at the bottom once cost 2 GB of paths.
    depth, inner = 400, ",".join(["{}"] * 400_000)
    feed = tmp_path / "nested.json"
    feed.write_text(
        '{"CVE_data_type":"CVE","CVE_Items":[{"cve":{"CVE_data_meta":{"ID":"CVE-2020-0001"}},'
        '"configurations":{"nodes":[' + '{"children":[' * depth + inner + "]}" * depth + "]}}]}"
    )
    items, peak = _peak_mib([feed])
    (skip,) = items
    assert isinstance(skip, Skipped) and "nested deeper than 32 levels" in skip.reason
    assert skip.origin == f"{feed}#CVE-2020-0001"
    assert peak < 100, f"refusing the record held {peak:.0f} MiB"


def test_running_out_of_memory_skips_that_input_and_the_walk_goes_on(tmp_path: Path) -> None:
    """A real MemoryError: the walker runs in a child whose address space is capped."""
    (tmp_path / "a-epss.csv").write_bytes(b"cve,epss,percentile\n" + b"CVE-2020-0001,0.1,0.2\n" * 4_000_000)
    (tmp_path / "b-kev.json").write_bytes(KEV.read_bytes())
    script = textwrap.dedent(f"""
        import resource
        from collections import Counter
        from cvewatch.ingest.sources import iter_items
        pages = int(open("/proc/self/statm").read().split()[0])
        resource.setrlimit(resource.RLIMIT_AS, (pages * 4096 + 250 * 2**20, resource.RLIM_INFINITY))
        items = list(iter_items([{str(tmp_path)!r}]))
        print(Counter(type(i).__name__ for i in items)["KevEntry"])
        print([i.reason for i in items if type(i).__name__ == "Skipped"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    kev, reasons = done.stdout.splitlines()
    assert kev == "25"
    assert reasons == "['ran out of memory parsing it: skipped']"


def _big_feed(path: Path, copies: int) -> list[str]:
    """An NVD 1.1 feed of the fixture's items renumbered copies times (written a chunk at a time)."""
    items = orjson.loads((DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json").read_bytes())["CVE_Items"]
    ids = []
    with path.open("wb") as out:
        out.write(b'{"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_Items": [')
        for copy in range(copies):
            for number, item in enumerate(items):
                cve_id = f"CVE-2099-{copy * len(items) + number + 10000}"
                item["cve"]["CVE_data_meta"]["ID"] = cve_id
                ids.append(cve_id)
                out.write((b"," if copy or number else b"") + orjson.dumps(item))
        out.write(b"]}")
    return ids


def test_a_feed_bigger_than_the_stream_threshold_is_parsed_as_a_stream(tmp_path: Path) -> None:
    feed = tmp_path / "nvdcve-1.1-2099.json"
    ids = _big_feed(feed, copies=40)
    assert feed.stat().st_size > 3 * MiB
    whole, streamed = Limits(stream_above=64 * MiB), Limits(stream_above=MiB)
    items = list(iter_items([feed], limits=streamed))
    assert items == list(iter_items([feed], limits=whole)) and len(items) == len(ids)
    assert all(isinstance(i, CveRecord) for i in items)
    del items
    whole_peak, peak = _walk_peak_mib(feed, whole), _walk_peak_mib(feed, streamed)
    # Decoded whole, a feed costs several times its size; streamed, the first MiB read and one CVE at a time.
    assert peak < whole_peak / 4, f"streamed {peak:.0f} MiB, decoded whole {whole_peak:.0f} MiB"


def test_a_streamed_feed_that_breaks_keeps_what_came_before(tmp_path: Path) -> None:
    feed = tmp_path / "nvdcve-1.1-2099.json.gz"
    ids = _big_feed(tmp_path / "feed.json", copies=40)
    feed.write_bytes(gzip.compress((tmp_path / "feed.json").read_bytes()[:-5000]))
    items = list(iter_items([feed], limits=Limits(stream_above=MiB, max_ratio=1000)))
    *records, last = items
    assert len(ids) - 5 < len(records) < len(ids) and all(isinstance(r, CveRecord) for r in records)
    assert isinstance(last, Skipped) and last.origin == str(feed)
    assert last.reason.startswith(f"invalid JSON after {len(records)} entries, read up to here")
