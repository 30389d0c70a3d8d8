"""The input walker: files, directories and archives in, parsed items out; bad input becomes Skipped.

Each file's format is detected from its content (names lie: a KB file and a CVE 5 file are both
CVE-*.json). JSON is decoded once and the parser works from that decoded document.

What one file or archive member may decompress to is capped (Limits): a zip or gzip bomb is skipped with
its reason before it is held in memory, and so is an input the process runs out of memory on.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.cve5 import cve5_records
from cvewatch.ingest.parsers.cwe import parse_cwe
from cvewatch.ingest.parsers.epss import parse_epss
from cvewatch.ingest.parsers.kev import kev_entries
from cvewatch.ingest.parsers.nvd import nvd_api_records, nvd_api_stream, nvd_feed_records, nvd_feed_stream
from cvewatch.ingest.parsers.opencve_kb import opencve_kb_record
from cvewatch.ingest.readers import (
    ArchiveBomb,
    Budget,
    Capped,
    Counting,
    Limits,
    MiB,
    Prefixed,
    TarMember,
    TooLarge,
)
from cvewatch.ingest.records import InputRead, Item, ParseError, Skipped

CVE5 = "cve5"
NVD_FEED = "nvd-1.1"
NVD_API = "nvd-2.0"
OPENCVE_KB = "opencve-kb"
KEV = "kev"
EPSS = "epss"
CWE = "cwe"

Progress = Callable[[str], None]

_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_NOT_DATA_NAMES = ("readme", "license", "licence", "copying", "notice", "changelog", "manifest.csv")
_NOT_DATA_SUFFIXES = (".md", ".rst", ".txt", ".license", ".py", ".sh", ".html", ".yml", ".yaml", ".toml",
                      ".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".ico")


def iter_items(
    paths: Iterable[str | Path],
    *,
    on_progress: Progress | None = None,
    limits: Limits | None = None,
    known: Collection[str] | None = None,
) -> Iterator[Item]:
    """Records from every data file under paths; never raises for bad input, yields Skipped instead.

    on_progress is called with the origin of each file or archive member before it is parsed. limits
    defaults to the configured ones (settings.IMPORT_MAX_MB, IMPORT_MAX_RATIO) when Django is set up, else Limits().
    With known (a collection of digests, possibly empty), every regular file (a directory's files one by one;
    an archive is one file) ends with an InputRead marker carrying the sha256 of its raw bytes, and a file
    whose digest is in known is not parsed: its marker alone, unchanged=True, stands for it. Without, no
    file is hashed and no marker is yielded.
    """
    walker = _Walker(on_progress, limits or _configured_limits(), known)
    for path in paths:
        path = Path(path)
        origin = str(path)
        if not path.exists():
            yield Skipped(origin, "no such file or directory")
        elif path.is_dir():
            yield from walker.dir(path)
        elif _not_data(path.name):
            yield Skipped(origin, "not a data file (documentation, licence, manifest or schema): ignored")
        else:
            yield from walker.input(path, origin)


def _configured_limits() -> Limits:
    try:
        from django.conf import settings

        return Limits(max_bytes=settings.IMPORT_MAX_MB * MiB, max_ratio=settings.IMPORT_MAX_RATIO)
    except Exception:  # noqa: BLE001 - no Django settings (a parser bench, the fuzzer): the defaults
        return Limits()


class Detected(NamedTuple):
    format: str  # CVE5, NVD_FEED, NVD_API, OPENCVE_KB, KEV, EPSS or CWE
    doc: Any = None  # a JSON format's decoded document, which its parser reads (decoded once); else None


def detect_format(data: bytes, name: str) -> Detected:
    """The format of a file's content (its name only breaks ties); ParseError says why it is none we read."""
    if not data.strip():
        raise ParseError("empty file")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        doc = load_json(data)
        fmt = _detect_doc(doc)
        if fmt is None:
            raise ParseError(f"unsupported format{_hint(doc)}")
        return Detected(fmt, doc)
    fmt = _detect_text(head, name)
    if fmt is None:
        raise ParseError("unsupported format (not JSON, an EPSS CSV or a CWE XML catalog)")
    return Detected(fmt)


# --- walking -------------------------------------------------------------------------------------


class _Walker(Budget):
    def __init__(
        self, on_progress: Progress | None, limits: Limits, known: Collection[str] | None = None
    ) -> None:
        super().__init__(limits)
        self.on_progress = on_progress
        self.known = known

    def progress(self, origin: str) -> None:
        if self.on_progress is not None:
            self.on_progress(origin)

    def dir(self, root: Path) -> Iterator[Item]:
        unreadable: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable.append):
            while unreadable:
                error = unreadable.pop(0)
                yield Skipped(str(error.filename or dirpath), f"cannot read directory: {error.strerror or error}")
            # Sorted and without hidden entries (.git, editor droppings) so runs are repeatable.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                if filename.startswith(".") or _not_data(filename):
                    continue
                path = Path(dirpath) / filename
                yield from self.input(path, str(path))
        for error in unreadable:
            yield Skipped(str(error.filename or root), f"cannot read directory: {error.strerror or error}")

    def input(self, path: Path, origin: str) -> Iterator[Item]:
        """One top-level file: skipped unread when its raw bytes are known, else read and marked as done.

        The digest is taken on the open file before it is parsed from the same descriptor; the marker says
        the file was read completely only if nothing transient stopped a part of it and its size and mtime
        did not move meanwhile (a file still being written is read again next time). A pipe or device is
        read as it comes, never skipped and never marked.
        """
        try:
            stream = path.open("rb")
        except OSError as exc:
            yield Skipped(origin, f"cannot read: {exc.strerror or exc}", transient=True)
            return
        with stream:
            try:
                before = os.fstat(stream.fileno())
                regular = self.known is not None and stat.S_ISREG(before.st_mode)
                digest = hashlib.file_digest(stream, "sha256").hexdigest() if regular else ""
                if regular:
                    stream.seek(0)
            except OSError as exc:
                yield Skipped(origin, f"cannot read: {exc.strerror or exc}", transient=True)
                return
            if digest and self.known is not None and digest in self.known:
                yield InputRead(origin, digest, before.st_size, unchanged=True)
                return
            complete = True
            for item in self.file(path, origin, stream, size=before.st_size):
                if isinstance(item, Skipped) and item.transient:
                    complete = False
                yield item
            if not digest or not complete:
                return
            try:
                after = os.fstat(stream.fileno())
            except OSError:
                return
        if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
            yield InputRead(origin, digest, before.st_size)

    def file(self, path: Path, origin: str, stream: IO[bytes], *, size: int) -> Iterator[Item]:
        name = path.name.lower()
        try:
            if name.endswith(_TAR_SUFFIXES):
                yield from self.tar(stream, origin)
            elif name.endswith(".zip"):
                yield from self.zip(stream, origin)
            else:
                self.progress(origin)
                if size > self.limits.max_bytes:
                    yield Skipped(origin, self.too_large(size), transient=True)
                    return
                yield from self.stream(stream, path.name, origin, compressed=size)
        except OSError as exc:
            yield Skipped(origin, f"cannot read: {exc.strerror or exc}", transient=True)
        except MemoryError:
            yield Skipped(origin, "ran out of memory reading it: skipped", transient=True)

    def tar(self, stream: IO[bytes], origin: str) -> Iterator[Item]:
        """Members one at a time ('r|*' streams: memory stays flat however big the bundle).

        A member's header says how many bytes it holds, not what they cost: behind a .tar.gz's compression a
        small file can inflate to gigabytes. So every member's bytes are counted against the archive file's
        bytes actually read (the ratio limit), member by member and for the archive as a whole. A member over
        the limits is skipped; once the archive as a whole passes the ratio, the rest of it is not inflated.
        """
        count = 0
        raw = Counting(stream)
        try:
            with tarfile.open(fileobj=raw, mode="r|*") as tar:
                for member in tar:
                    if not member.isfile():
                        if not member.isdir():  # links and devices are never followed or read: say so
                            yield Skipped(f"{origin}!{member.name}", _special_member(member))
                        continue
                    member_name = member.name
                    base = member_name.rpartition("/")[2]
                    member_origin = f"{origin}!{member_name}"
                    reader = TarMember(self, tar.extractfile(member), raw, archive_at=member.offset_data)
                    if base.startswith(".") or _hidden_path(member_name) or _not_data(base):
                        pass
                    elif member.size > self.limits.max_bytes:
                        self.progress(member_origin)
                        yield Skipped(member_origin, self.too_large(member.size), transient=True)
                    else:
                        self.progress(member_origin)
                        yield from self.stream(reader, base, member_origin, compressed=member.size)
                        count += 1
                    # Whatever the member's reader left is read here, not by tarfile, so it counts too.
                    reader.drain()
        except ArchiveBomb as exc:
            yield Skipped(origin, f"not read past its {count} readable members: {exc}", transient=True)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            yield Skipped(origin, f"archive is truncated or corrupt after {count} readable members: {_why(exc)}")

    def zip(self, stream: IO[bytes], origin: str) -> Iterator[Item]:
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            yield Skipped(origin, f"not a readable zip archive: {_why(exc)}")
            return
        with archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                base = info.filename.rpartition("/")[2]
                if info.is_dir() or base.startswith(".") or _hidden_path(info.filename) or _not_data(base):
                    continue
                member_origin = f"{origin}!{info.filename}"
                self.progress(member_origin)
                try:
                    # The sizes in the directory may lie: the cap holds on the bytes actually inflated.
                    with archive.open(info) as member:
                        yield from self.stream(member, base, member_origin, compressed=info.compress_size)
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, ValueError,
                        RuntimeError) as exc:  # RuntimeError: an encrypted member
                    yield Skipped(member_origin, f"cannot read zip member: {_why(exc)}")

    def stream(self, stream: IO[bytes], name: str, origin: str, *, compressed: int) -> Iterator[Item]:
        """A file or archive member, read within the limits: whole, except big NVD feeds and API pages.

        Those are parsed as a stream (ijson) once past limits.stream_above bytes, so memory holds one CVE at a
        time whatever the feed's size; anything else is read whole and parsed from its bytes.
        """
        lower = name.lower()
        gzipped = False
        try:
            if lower.endswith((*_TAR_SUFFIXES, ".zip")):
                data = self.read_capped(stream, compressed=compressed)
            else:
                first = stream.read(2)
                source: IO[bytes] = Prefixed(first, stream)
                gzipped = lower.endswith(".gz") or first == b"\x1f\x8b"
                if gzipped:
                    source = gzip.GzipFile(fileobj=source)  # type: ignore[assignment]
                    name = name[:-3] if lower.endswith(".gz") else name
                above = self.limits.stream_above
                head = self.read_capped(source, compressed=compressed, stop_after=above)
                fmt = _streamed_format(head) if len(head) > above else None
                if fmt is not None:
                    reader = Capped(self, Prefixed(head, source), compressed=compressed)
                    yield from _parse_stream(fmt, reader, origin)
                    return
                data = head if len(head) <= above else head + self.read_capped(
                    source, compressed=compressed, already=len(head)
                )
                if gzipped:  # already inflated: member() must not unwrap it again
                    yield from _parse(data, name, origin)
                    return
        except ArchiveBomb:
            raise  # the whole archive stops: its tar walker says so
        except TooLarge as exc:
            yield Skipped(origin, str(exc), transient=True)
            return
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if not gzipped:
                raise  # the archive's own damage: its reader reports it
            yield Skipped(origin, f"truncated or corrupt gzip: {_why(exc)}")
            return
        except MemoryError:
            yield Skipped(origin, "ran out of memory reading it: skipped", transient=True)
            return
        yield from self.member(data, name, origin)

    def member(self, data: bytes, name: str, origin: str) -> Iterator[Item]:
        """A file's bytes: unwrap .gz and nested archives, then detect and parse."""
        try:
            lower = name.lower()
            if lower.endswith(_TAR_SUFFIXES):
                yield from self.tar(io.BytesIO(data), origin)
                return
            if lower.endswith(".zip"):
                yield from self.zip(io.BytesIO(data), origin)
                return
            if lower.endswith(".gz") or data[:2] == b"\x1f\x8b":
                try:
                    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                        data = self.read_capped(stream, compressed=len(data))
                except TooLarge as exc:
                    yield Skipped(origin, str(exc), transient=True)
                    return
                except (EOFError, OSError, zlib.error) as exc:
                    yield Skipped(origin, f"truncated or corrupt gzip: {_why(exc)}")
                    return
                if lower.endswith(".gz"):
                    name = name[:-3]
            yield from _parse(data, name, origin)
        except MemoryError:
            yield Skipped(origin, "ran out of memory reading it: skipped", transient=True)

def _special_member(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link in the archive: links are not followed"
    if member.islnk():
        return "a hard link in the archive: links are not followed"
    if member.isdev():
        return "a device or FIFO in the archive: not read"
    return "not a regular file in the archive: not read"


def _streamed_format(head: bytes) -> str | None:
    """NVD_FEED or NVD_API when a big input's first bytes say it is one (the formats that grow to GBs)."""
    start = head[:4096]
    if b'"CVE_Items"' in start:
        return NVD_FEED
    if b'"vulnerabilities"' in start and b"NVD_CVE" in start:
        return NVD_API
    return None


def _parse_stream(fmt: str, stream: Capped, origin: str) -> Iterator[Item]:
    records = nvd_feed_stream(stream, origin=origin) if fmt == NVD_FEED else nvd_api_stream(stream, origin=origin)
    try:
        yield from records
    except ArchiveBomb:
        raise
    except TooLarge as exc:
        yield Skipped(origin, f"read up to here, then: {exc}", transient=True)


def _parse(data: bytes, name: str, origin: str) -> Iterator[Item]:
    try:
        fmt, doc = detect_format(data, name)
        if fmt == EPSS:
            yield from parse_epss(data, origin=origin)
        elif fmt == CWE:
            yield from parse_cwe(data, origin=origin)
        else:
            yield from _parse_doc(fmt, doc, data, origin)
    except ParseError as exc:
        yield Skipped(origin, str(exc))
    except MemoryError:
        yield Skipped(origin, "ran out of memory parsing it: skipped", transient=True)
    except Exception as exc:  # noqa: BLE001 - one odd file must not end an import of thousands
        yield Skipped(origin, f"could not be parsed ({type(exc).__name__}: {_why(exc)})")


def _parse_doc(fmt: str, doc: Any, raw: bytes, origin: str) -> Iterator[Item]:
    if fmt == CVE5:
        yield from cve5_records(doc, raw=raw)
    elif fmt == NVD_FEED:
        yield from nvd_feed_records(doc, origin=origin)
    elif fmt == NVD_API:
        yield from nvd_api_records(doc, origin=origin)
    elif fmt == OPENCVE_KB:
        yield opencve_kb_record(doc, raw=raw)
    elif fmt == KEV:
        yield from kev_entries(doc, origin=origin)


# --- detection -----------------------------------------------------------------------------------


def _detect_doc(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    if doc.get("dataType") == "CVE_RECORD":
        return CVE5
    if "CVE_Items" in doc:
        return NVD_FEED
    if "catalogVersion" in doc:
        return KEV
    if "opencve" in doc:
        return OPENCVE_KB
    cve = doc.get("cve")
    if isinstance(cve, str) and (
        "mitre" in doc or "nvd" in doc or "kev" in doc or "vulnrichment" in doc or "redhat" in doc
    ):
        return OPENCVE_KB
    if isinstance(cve, dict):
        return NVD_API
    if "vulnerabilities" in doc and (str(doc.get("format", "")).startswith("NVD_CVE") or _has_cve(doc)):
        return NVD_API
    if "sourceIdentifier" in doc and "id" in doc:
        return NVD_API
    return None


def _has_cve(doc: dict[str, Any]) -> bool:
    entries = doc.get("vulnerabilities")
    return isinstance(entries, list) and bool(entries) and isinstance(entries[0], dict) and "cve" in entries[0]


def _detect_text(head: bytes, name: str) -> str | None:
    first_line = head.split(b"\n", 1)[0].strip().lower()
    if first_line.startswith(b"#model_version") or first_line.startswith(b"cve,epss"):
        return EPSS
    if b"<Weakness_Catalog" in head:
        return CWE
    return None


def _hint(doc: Any) -> str:
    if isinstance(doc, dict) and "schema_version" in doc and ("affected" in doc or "aliases" in doc):
        return " (an OSV record; OSV is not an import format)"
    if isinstance(doc, dict) and "$schema" in doc:
        return " (a JSON schema, not data)"
    return ""


# --- small helpers -------------------------------------------------------------------------------


def _not_data(filename: str) -> bool:
    lower = filename.lower()
    stem = lower.split(".", 1)[0]
    return (
        stem in _NOT_DATA_NAMES
        or lower in _NOT_DATA_NAMES
        or lower.endswith(_NOT_DATA_SUFFIXES)
        or ("schema" in lower and lower.endswith(".json"))
    )


def _hidden_path(member_name: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in member_name.split("/")[:-1])


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
