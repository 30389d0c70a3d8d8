"""What reading one input may cost (Limits), and the readers that hold a decompressing stream to it.

A zip's directory and a tar's headers say what their members hold, not what they cost: every check here
counts the bytes actually inflated, against the bytes actually read from the file.
"""

from __future__ import annotations

from typing import IO, NamedTuple

MiB = 1 << 20
CHUNK = MiB


class Limits(NamedTuple):
    """What one input may cost (CVEWATCH_IMPORT_MAX_MB, CVEWATCH_IMPORT_MAX_RATIO)."""

    max_bytes: int = 512 * MiB  # one file or archive member, decompressed; NVD's largest 1.1 feed is ~300 MB
    max_ratio: int = 100  # decompressed/compressed; real feeds stay under 25, a zip of zeros reaches 1000
    ratio_floor: int = 16 * MiB  # below this much output any ratio is fine (tiny repetitive files)
    stream_above: int = 64 * MiB  # a bigger NVD feed or API page is parsed as a stream, not decoded whole


class TooLarge(Exception):
    """An input over its Limits: skipped with this reason."""


class ArchiveBomb(TooLarge):
    """A tar archive inflating past the ratio limit as a whole: the rest of it is not read."""


class Budget:
    """The limits' checks, for the walker and the readers it hands to parsers."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def read_capped(
        self, stream: IO[bytes], *, compressed: int, already: int = 0, stop_after: int | None = None
    ) -> bytes:
        """A decompressing stream to its end (or just past stop_after bytes), or TooLarge as soon as it
        passes the size or ratio limit; already counts bytes of the same input read before."""
        chunks, total = [], already
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            self.check(total, compressed=compressed)
            chunks.append(chunk)
            if stop_after is not None and total - already > stop_after:
                break
        return b"".join(chunks)

    def check(self, total: int, *, compressed: int) -> None:
        if total > self.limits.max_bytes:
            raise TooLarge(self.too_large(total, more=True))
        self.check_ratio(total, compressed=compressed)

    def check_ratio(self, total: int, *, compressed: int, error: type[TooLarge] = TooLarge) -> None:
        limits = self.limits
        if total > limits.ratio_floor and total > max(compressed, 1) * limits.max_ratio:
            raise error(
                f"decompresses more than {limits.max_ratio} times its compressed size of {compressed} bytes "
                "(a zip, gzip or tar bomb?; CVEWATCH_IMPORT_MAX_RATIO): skipped"
            )

    def too_large(self, size: int, *, more: bool = False) -> str:
        return (
            f"{'more than ' if more else ''}{size // MiB} MiB, over the {self.limits.max_bytes // MiB} MiB "
            "one input may decompress to (CVEWATCH_IMPORT_MAX_MB): skipped"
        )


class Prefixed:
    """Bytes already read, then the rest of the stream they came from."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = memoryview(head), rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            out, self.head = bytes(self.head) + self.rest.read(), memoryview(b"")
            return out
        out, self.head = bytes(self.head[:size]), self.head[size:]
        return out


class Capped:
    """A stream whose bytes count against the budget's limits as a streamed parser reads them."""

    def __init__(self, budget: Budget, stream: Prefixed, *, compressed: int) -> None:
        self.budget, self.stream, self.compressed, self.total = budget, stream, compressed, 0

    def read(self, size: int = -1) -> bytes:
        out = self.stream.read(size)
        self.total += len(out)
        self.budget.check(self.total, compressed=self.compressed)
        return out


class Counting:
    """A file's bytes as an archive reader takes them: how many it has taken so far."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.count = stream, 0

    def read(self, size: int = -1) -> bytes:
        out = self.stream.read(size)
        self.count += len(out)
        return out


class TarMember:
    """A tar member's bytes, checked against the archive file's bytes really read, not its header's size."""

    def __init__(self, budget: Budget, data: IO[bytes] | None, raw: Counting, *, archive_at: int) -> None:
        self.budget, self.data, self.raw, self.archive_at = budget, data, raw, archive_at
        self.raw_from, self.total = raw.count, 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:  # to the end, a chunk at a time so that the limits are checked as it grows
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if self.data is None:
            return b""
        out = self.data.read(size)
        self.total += len(out)
        # The archive as a whole first: past its ratio, nothing after this member is worth inflating.
        self.budget.check_ratio(self.archive_at + self.total, compressed=self.raw.count, error=ArchiveBomb)
        self.budget.check_ratio(self.total, compressed=self.raw.count - self.raw_from)
        return out

    def drain(self) -> None:
        """Reads the member's remaining bytes and drops them; ArchiveBomb past the archive's ratio."""
        if self.data is None:
            return
        while chunk := self.data.read(CHUNK):
            self.total += len(chunk)
            self.budget.check_ratio(self.archive_at + self.total, compressed=self.raw.count, error=ArchiveBomb)
