"""Sources that publish one document, replaced in place: CISA KEV (JSON), FIRST EPSS (CSV.gz), MITRE CWE (XML.zip).

Cursor: the document's own version (KEV dateReleased/catalogVersion, EPSS score_date, CWE catalog Date and
Version), its ETag and a digest of its bytes. Over HTTP a conditional GET (If-None-Match) answers "not
modified" without a download. A document older than the cursor's is noticed, recorded and not applied.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from cvewatch.ingest.records import Skipped
from cvewatch.sync.errors import UpstreamError
from cvewatch.sync.sources.base import Context, Cursor, Step, head_bytes, read_items, url_filename
from cvewatch.sync.transport import is_http, local_path


@dataclass(frozen=True)
class Version:
    key: str  # sortable; "" when the document does not say
    label: str


@dataclass(frozen=True)
class DocumentSource:
    name: str
    filename: str  # the download's file name: the walker unwraps .gz/.zip from it
    version_of: Callable[[Path], Version]

    def steps(self, ctx: Context) -> Iterator[Step]:
        cursor = ctx.cursor
        etag = ""
        if is_http(ctx.url):
            headers = {"If-None-Match": cursor["etag"]} if cursor.get("etag") else {}
            dest = ctx.workdir / url_filename(ctx.url, self.filename)
            response = ctx.transport.get(ctx.url, headers=headers, dest=dest, on_chunk=ctx.heartbeat)
            if response.not_modified or response.path is None:
                ctx.note(f"{self.name}: not modified since the last run (ETag {cursor.get('etag')})")
                return
            path, etag = response.path, response.etag
        else:
            path = local_path(ctx.url)
            if not path.is_file():
                raise UpstreamError(f"{path}: no such file")
        digest = _digest(path)
        version = _safe_version(self.version_of, path)
        if cursor.get("digest") == digest:
            ctx.note(f"{self.name}: unchanged since the last run ({version.label or digest[:12]})")
            if etag and etag != cursor.get("etag"):
                yield Step(items=(), cursor={**cursor, "etag": etag}, label="ETag only")
            return
        if version.key and cursor.get("version") and version.key < cursor["version"]:
            ctx.note(
                f"{self.name}: upstream went back in time: {version.label} is older than the "
                f"{cursor.get('label', cursor['version'])} already applied; nothing applied, cursor kept"
            )
            return
        _check_usable(path)
        new: Cursor = {"version": version.key, "label": version.label, "etag": etag, "digest": digest}
        yield Step(items=read_items([path]), cursor=new, label=version.label or path.name)


def _check_usable(path: Path) -> None:
    """Refuses a document the walker cannot read at all (truncated gzip, broken JSON) before any write."""
    for item in read_items([path]):
        if not isinstance(item, Skipped):
            return
        raise UpstreamError(f"{item.origin}: {item.reason}")
    raise UpstreamError(f"{path.name}: no records in the document")


def _digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _safe_version(version_of: Callable[[Path], Version], path: Path) -> Version:
    try:
        return version_of(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, orjson.JSONDecodeError):
        return Version("", "")


def kev_version(path: Path) -> Version:
    doc = orjson.loads(path.read_bytes())
    released, version = str(doc.get("dateReleased", "")), str(doc.get("catalogVersion", ""))
    return Version(released or version, f"KEV catalog {version} ({released})")


EPSS_DATE = re.compile(rb"score_date:(\d{4}-\d{2}-\d{2}[T0-9:+\-Z]*)")


def epss_version(path: Path) -> Version:
    match = EPSS_DATE.search(head_bytes(path).split(b"\n", 1)[0])
    date = match.group(1).decode() if match else ""
    return Version(date, f"EPSS scores of {date[:10]}" if date else "")


CWE_ATTRS = re.compile(rb"<Weakness_Catalog\b[^>]*>")


def cwe_version(path: Path) -> Version:
    match = CWE_ATTRS.search(head_bytes(path))
    attrs = dict(re.findall(rb'(\w+)="([^"]*)"', match.group(0))) if match else {}
    date, version = attrs.get(b"Date", b"").decode(), attrs.get(b"Version", b"").decode()
    return Version(date, f"CWE {version} ({date})" if date else "")


KEV = DocumentSource(name="kev", filename="known_exploited_vulnerabilities.json", version_of=kev_version)
EPSS = DocumentSource(name="epss", filename="epss_scores-current.csv.gz", version_of=epss_version)
CWE = DocumentSource(name="cwe", filename="cwec_latest.xml.zip", version_of=cwe_version)
