"""What every source is: given the cursor, the steps that bring the catalog up to date.

A step is a batch of parsed items (from cvewatch.ingest's walker and parsers) and the cursor that holds once
they are imported. The service imports each step through the ingest path and saves its cursor in the same
transaction as the step's last batch, so a crash between steps resumes after the last committed one.
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlparse

from cvewatch.catalog.names import is_cve_id
from cvewatch.ingest.records import Item, Skipped
from cvewatch.ingest.sources import iter_items
from cvewatch.sync.transport import Transport

Cursor = dict[str, Any]


@dataclass
class Step:
    items: Iterable[Item]
    cursor: Cursor  # holds once every item is imported
    label: str  # what the step reads: an archive name, a commit range, a date window


@dataclass
class Context:
    """What a source may use during one run."""

    name: str
    url: str
    cursor: Cursor
    transport: Transport
    workdir: Path  # scratch space for downloads, removed after the run
    state_dir: Path  # kept between runs (git mirrors)
    heartbeat: Callable[[], None]  # renews the lease; call it during long waits and downloads
    api_key: str = ""
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)


class Source(Protocol):
    name: str

    def steps(self, ctx: Context) -> Iterator[Step]:
        """The steps from ctx.cursor to now, lazily (a step's download happens when it is reached)."""
        ...


def read_items(paths: Iterable[Path], *, only_cve_files: bool = False) -> Iterator[Item]:
    """Items from files, directories and archives through the ingest walker.

    only_cve_files drops what a CVE tree holds besides records (cvelistV5's delta.json, deltaLog.json, a
    README), which the walker would otherwise report as unsupported input on every run.
    """
    for item in iter_items(list(paths)):
        if only_cve_files and isinstance(item, Skipped):
            base = _base(item.origin)
            if base.endswith(".json") and not is_record_file(base):
                continue
        yield item


def is_record_file(name: str) -> bool:
    """A file named after its CVE ("CVE-2024-3094.json"), as in cvelistV5 and the OpenCVE KB."""
    return name.endswith(".json") and is_cve_id(name[: -len(".json")])


def _base(origin: str) -> str:
    return origin.rpartition("!")[2].rpartition("/")[2]


HEAD_BYTES = 64 * 1024


def head_bytes(path: Path) -> bytes:
    """The first bytes of a document, unwrapping gzip and a zip's first member (to read its version)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/"))
            if not names:
                return b""
            with archive.open(names[0]) as member:
                return member.read(HEAD_BYTES)
    with path.open("rb") as stream:
        start = stream.read(2)
    if start == b"\x1f\x8b":
        with gzip.open(path, "rb") as stream:
            return stream.read(HEAD_BYTES)
    with path.open("rb") as stream:
        return stream.read(HEAD_BYTES)


def url_filename(url: str, default: str) -> str:
    """The file name a URL ends with (the walker reads .gz/.zip from it), or default."""
    name = PurePosixPath(urlparse(url).path).name
    return name if "." in name else default
