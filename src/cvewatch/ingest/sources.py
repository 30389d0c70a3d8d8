"""The input walker: files, directories and archives in, parsed items out; bad input becomes Skipped.

Each file's format is detected from its content (names lie: a KB file and a CVE 5 file are both
CVE-*.json). JSON is decoded once and the parser works from that decoded document.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from cvewatch.ingest.parsers._json import load_json
from cvewatch.ingest.parsers.cve5 import cve5_records
from cvewatch.ingest.parsers.cwe import parse_cwe
from cvewatch.ingest.parsers.epss import parse_epss
from cvewatch.ingest.parsers.kev import kev_entries
from cvewatch.ingest.parsers.nvd import nvd_api_records, nvd_feed_records
from cvewatch.ingest.parsers.opencve_kb import opencve_kb_record
from cvewatch.ingest.records import Item, ParseError, Skipped

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


def iter_items(paths: Iterable[str | Path], *, on_progress: Progress | None = None) -> Iterator[Item]:
    """Records from every data file under paths; never raises for bad input, yields Skipped instead.

    on_progress is called with the origin of each file or archive member before it is parsed.
    """
    for path in paths:
        path = Path(path)
        origin = str(path)
        if not path.exists():
            yield Skipped(origin, "no such file or directory")
        elif path.is_dir():
            yield from _walk_dir(path, on_progress)
        elif _not_data(path.name):
            yield Skipped(origin, "not a data file (documentation, licence, manifest or schema): ignored")
        else:
            yield from _file(path, origin, on_progress)


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


def _walk_dir(root: Path, on_progress: Progress | None) -> Iterator[Item]:
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
            yield from _file(path, str(path), on_progress)
    for error in unreadable:
        yield Skipped(str(error.filename or root), f"cannot read directory: {error.strerror or error}")


def _file(path: Path, origin: str, on_progress: Progress | None) -> Iterator[Item]:
    name = path.name.lower()
    try:
        if name.endswith(_TAR_SUFFIXES):
            with path.open("rb") as stream:
                yield from _tar(stream, origin, on_progress)
        elif name.endswith(".zip"):
            with path.open("rb") as stream:
                yield from _zip(stream, origin, on_progress)
        else:
            if on_progress is not None:
                on_progress(origin)
            yield from _member(path.read_bytes(), path.name, origin, on_progress)
    except OSError as exc:
        yield Skipped(origin, f"cannot read: {exc.strerror or exc}")


def _tar(stream: IO[bytes], origin: str, on_progress: Progress | None) -> Iterator[Item]:
    """Members one at a time ('r|*' streams: memory stays flat however big the bundle)."""
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                if not member.isfile():
                    if not member.isdir():  # links and devices are never followed or read: say so
                        yield Skipped(f"{origin}!{member.name}", _special_member(member))
                    continue
                member_name = member.name
                base = member_name.rpartition("/")[2]
                if base.startswith(".") or _hidden_path(member_name) or _not_data(base):
                    continue
                member_origin = f"{origin}!{member_name}"
                if on_progress is not None:
                    on_progress(member_origin)
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                data = extracted.read()
                count += 1
                yield from _member(data, base, member_origin, on_progress)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        yield Skipped(origin, f"archive is truncated or corrupt after {count} readable members: {_why(exc)}")


def _special_member(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link in the archive: links are not followed"
    if member.islnk():
        return "a hard link in the archive: links are not followed"
    if member.isdev():
        return "a device or FIFO in the archive: not read"
    return "not a regular file in the archive: not read"


def _zip(stream: IO[bytes], origin: str, on_progress: Progress | None) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        yield Skipped(origin, f"not a readable zip archive: {_why(exc)}")
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            base = info.filename.rpartition("/")[2]
            if info.is_dir() or base.startswith(".") or _hidden_path(info.filename) or _not_data(base):
                continue
            member_origin = f"{origin}!{info.filename}"
            if on_progress is not None:
                on_progress(member_origin)
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                yield Skipped(member_origin, f"cannot read zip member: {_why(exc)}")
                continue
            yield from _member(data, base, member_origin, on_progress)


def _member(data: bytes, name: str, origin: str, on_progress: Progress | None) -> Iterator[Item]:
    """A file's bytes: unwrap .gz and nested archives, then detect and parse."""
    lower = name.lower()
    if lower.endswith(_TAR_SUFFIXES):
        yield from _tar(io.BytesIO(data), origin, on_progress)
        return
    if lower.endswith(".zip"):
        yield from _zip(io.BytesIO(data), origin, on_progress)
        return
    if lower.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            yield Skipped(origin, f"truncated or corrupt gzip: {_why(exc)}")
            return
        if lower.endswith(".gz"):
            name = name[:-3]
    yield from _parse(data, name, origin)


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
        raise
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
