"""Tar bombs: a member's header says how many bytes it holds, not what they cost behind the archive's gzip.

The ratio limit holds on the bytes actually inflated against the bytes actually read from the file, member by
member and for the archive as a whole, whatever the headers say.
"""

from __future__ import annotations

import tarfile
import tracemalloc
import zlib
from pathlib import Path

from cvewatch.ingest.records import KevEntry, Skipped
from cvewatch.ingest.sources import Limits, MiB, iter_items

KEV = Path(__file__).resolve().parent.parent / "data" / "kev" / "kev_subset.json"


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _tar_gz(path: Path, members: list[tuple[str, int, bytes | int]], *, end: bool = True) -> None:
    """A gzip-compressed tar written by hand: (name, size in the header, the data: bytes, or that many zeros).

    The header's size and the data given may differ (a lying header); the zeros are compressed a MiB at a time.
    """
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        for name, declared, data in members:
            out.write(gz.compress(_header(name, declared)))
            written = 0
            if isinstance(data, bytes):
                out.write(gz.compress(data))
                written = len(data)
            else:
                block = bytes(MiB)
                for _ in range(data // MiB):
                    out.write(gz.compress(block))
                written = data
            out.write(gz.compress(bytes(-written % 512)))
        if end:
            out.write(gz.compress(bytes(1024)))
        out.write(gz.flush())


def _walk(path: Path, limits: Limits | None = None) -> tuple[list[object], float]:
    tracemalloc.start()
    try:
        items = list(iter_items([path], limits=limits))
        return items, tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def test_a_tar_gz_member_that_inflates_past_the_ratio_stops_the_archive_without_being_held(
    tmp_path: Path,
) -> None:
    # 256 MiB of zeros behind about 250 KB of gzip: under the size cap, and its header's size is the truth about
    # the tar, so a ratio taken against that size (1) never fired and the member was read whole into memory.
    kev = KEV.read_bytes()
    bomb = tmp_path / "bundle.tar.gz"
    _tar_gz(
        bomb,
        [
            ("a-kev.json", len(kev), kev),
            ("b-zeros.json", 256 * MiB, 256 * MiB),
            ("c-kev.json", len(kev), kev),
        ],
    )
    assert bomb.stat().st_size < 256 * MiB // 500
    items, peak = _walk(bomb)
    (skip,) = [i for i in items if isinstance(i, Skipped)]
    assert skip.origin == str(bomb)
    assert skip.reason.startswith("not read past its 1 readable members: decompresses more than 100 times")
    assert "CVEWATCH_IMPORT_MAX_RATIO" in skip.reason
    assert sum(isinstance(i, KevEntry) for i in items) == 25  # the member before the bomb, not the one after
    assert peak < 40, f"reading the bomb held {peak:.0f} MiB"


def test_a_header_that_lies_about_its_size_cannot_make_the_walker_inflate_without_end(tmp_path: Path) -> None:
    # The header claims 6 GiB: over the size cap, so the member is skipped unread, but skipping it still means
    # inflating it. That too is counted: the walk stops at the ratio, not at the end of what the gzip holds.
    lying = tmp_path / "lying.tar.gz"
    _tar_gz(lying, [("huge.json", 6 << 30, 64 * MiB)], end=False)
    items, _ = _walk(lying)
    first, second = items
    assert isinstance(first, Skipped) and first.origin == f"{lying}!huge.json"
    assert "over the 512 MiB one input may decompress to" in first.reason
    assert isinstance(second, Skipped) and second.origin == str(lying)
    assert "CVEWATCH_IMPORT_MAX_RATIO" in second.reason, second.reason


def test_a_member_bomb_inside_a_normal_archive_is_skipped_and_the_archive_goes_on(tmp_path: Path) -> None:
    # 24 MiB of real-looking text (ratio under 100) first, so the archive as a whole stays within the ratio
    # while the member of zeros alone does not: that member is skipped, the KEV catalog after it is read.
    text = b"".join(
        b"%08d some varied text of an advisory, line %d\n" % (n * 7919 % 99991, n) for n in range(520_000)
    )
    kev = KEV.read_bytes()
    bundle = tmp_path / "bundle.tar.gz"
    _tar_gz(
        bundle,
        [
            ("a-notes.json", len(text), text),
            ("b-zeros.json", 40 * MiB, 40 * MiB),
            ("c-kev.json", len(kev), kev),
        ],
    )
    items, peak = _walk(bundle, Limits(max_ratio=50))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.origin for s in skipped] == [f"{bundle}!a-notes.json", f"{bundle}!b-zeros.json"]
    assert "CVEWATCH_IMPORT_MAX_RATIO" in skipped[1].reason
    assert sum(isinstance(i, KevEntry) for i in items) == 25
    assert peak < 80, f"reading the bomb held {peak:.0f} MiB"


def test_real_bundles_stay_well_within_the_ratio(tmp_path: Path) -> None:
    # A tar of many small files compresses far better than any one of them (headers, padding): the sample
    # vulnrichment tarball inflates 11.5 times. A limit of 20 must still read all of it.
    sample = Path(__file__).resolve().parents[2] / "sample-data" / "cve5-vulnrichment-sample.tar.gz"
    items = list(iter_items([sample], limits=Limits(max_ratio=20, ratio_floor=MiB)))
    assert not [i for i in items if isinstance(i, Skipped) and "RATIO" in i.reason]
    assert len(items) > 4000
