"""The stored raw copy of a source file (SourceRecord.raw): compressed on import, read back for the CVE page.

New copies are zstd frames (level 1): on the full corpus, 900 MiB of source JSON compress in 5.3 s of CPU
where zlib at level 1 took 13.3 s, to the same size (282 against 279 MiB). Copies written before are zlib
streams and stay readable: the two formats are told apart by their first bytes (a zstd frame's magic number
never starts a zlib stream, whose first byte is 0x78 at the level used here). The record's digest covers the
uncompressed bytes, so changing the compression never makes a record look changed.
Pure functions over bytes.
"""

from __future__ import annotations

import zlib

import zstandard

LEVEL = 1  # provenance, rarely read: speed first
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_COMPRESSOR = zstandard.ZstdCompressor(level=LEVEL)  # one-shot compress() is thread-safe; writes the size
_DECOMPRESSOR = zstandard.ZstdDecompressor()


def compress(raw: bytes) -> bytes:
    """raw as stored: a zstd frame that carries its content size; b"" stays b"" (no raw copy)."""
    return _COMPRESSOR.compress(raw) if raw else b""


def decompress(stored: bytes, *, limit: int) -> bytes | None:
    """The raw bytes of a stored copy (zstd, or zlib from before), or None when they are unreadable or would
    exceed limit bytes (decompression stops there: a stored copy is never inflated beyond it)."""
    if not stored:
        return None
    if stored.startswith(_ZSTD_MAGIC):
        try:
            size = zstandard.frame_content_size(stored)
            if size < 0 or size > limit:  # -1: a frame without its size (never written here)
                return None
            return _DECOMPRESSOR.decompress(stored, max_output_size=limit)
        except zstandard.ZstdError:
            return None
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(stored, limit)
    except zlib.error:
        return None
    if inflater.unconsumed_tail:
        return None
    return data
