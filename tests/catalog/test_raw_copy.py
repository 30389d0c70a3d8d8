"""The stored raw copy: zstd now, zlib from before, both read back; nothing unreadable or oversized inflated."""

from __future__ import annotations

import zlib

import zstandard

from cvewatch.catalog import raw_copy

RAW = b'{"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2024-0001"}}' * 20


def test_a_copy_is_a_zstd_frame_that_reads_back():
    stored = raw_copy.compress(RAW)
    assert stored.startswith(b"\x28\xb5\x2f\xfd") and len(stored) < len(RAW)
    assert raw_copy.decompress(stored, limit=len(RAW)) == RAW


def test_copies_stored_as_zlib_before_still_read_back():
    assert raw_copy.decompress(zlib.compress(RAW, 1), limit=len(RAW)) == RAW


def test_no_raw_file_stores_nothing():
    assert raw_copy.compress(b"") == b""
    assert raw_copy.decompress(b"", limit=10) is None


def test_a_copy_over_the_limit_is_not_inflated():
    assert raw_copy.decompress(raw_copy.compress(RAW), limit=len(RAW) - 1) is None
    assert raw_copy.decompress(zlib.compress(RAW, 1), limit=len(RAW) - 1) is None


def test_a_zstd_frame_without_its_size_is_read_within_the_limit_only():
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(RAW)
    assert raw_copy.decompress(unsized, limit=len(RAW)) is None


def test_corrupt_copies_read_as_nothing():
    stored = raw_copy.compress(RAW)
    assert raw_copy.decompress(stored[:-6], limit=len(RAW)) is None
    assert raw_copy.decompress(stored[:4] + b"\xff" * 20, limit=len(RAW)) is None
    assert raw_copy.decompress(b"not zlib", limit=len(RAW)) is None
    assert raw_copy.decompress(b"x\x01garbage", limit=len(RAW)) is None
