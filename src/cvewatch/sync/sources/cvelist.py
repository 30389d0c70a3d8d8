"""cvelistV5, the CVE Program's CVE JSON 5 records: its GitHub release archives, or a git repository.

Releases (the default, the GitHub releases API of CVEProject/cvelistV5): each day has a baseline
`YYYY-MM-DD_all_CVEs_at_midnight.zip[.zip]`, hourly `YYYY-MM-DD_delta_CVEs_at_HHMMZ.zip` archives (every
record changed since that midnight, cumulative) and, once the day is over,
`YYYY-MM-DD_delta_CVEs_at_end_of_day.zip`. Cursor: the archive applied last and its position (day, time).
The first run applies the newest baseline; later runs apply, per day from the cursor's, the end-of-day
delta when the day is over, else the newest hourly delta. When the listing no longer reaches back to the
cursor's day (long downtime), the newest baseline is applied again: nothing is lost, and records that did
not change cost nothing. An upstream whose newest archive is older than the cursor is noticed; nothing is
applied.

Also accepted: a git repository (URL ending in .git or a checkout; see sources/git.py), a directory of
records, or one archive file (cursor: its name and digest).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from cvewatch.ingest.records import Item
from cvewatch.sync import git as gitcli
from cvewatch.sync.errors import UpstreamError
from cvewatch.sync.sources.base import Context, Step, read_items
from cvewatch.sync.sources.git import GitSource
from cvewatch.sync.transport import is_http, local_path

RELEASE_PAGES = 10  # pages of 100 releases (about a day and a half each) read back to find the cursor's day
ASSET = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})_(?:(?P<base>all_CVEs_at_midnight)\.zip(?:\.zip)?"
    r"|delta_CVEs_at_(?:(?P<hhmm>\d{4})Z|(?P<eod>end_of_day))\.zip)\Z"
)
BASELINE, END_OF_DAY = "0000", "2400"


@dataclass(frozen=True, order=True)
class Asset:
    day: str
    time: str  # HHMM; 0000 for a baseline, 2400 for the end-of-day delta
    baseline: bool
    name: str
    url: str

    @property
    def position(self) -> str:
        return f"{self.day} {self.time}"


def parse_asset(name: str, url: str) -> Asset | None:
    match = ASSET.match(name)
    if match is None:
        return None
    time = BASELINE if match["base"] else END_OF_DAY if match["eod"] else match["hhmm"]
    return Asset(day=match["day"], time=time, baseline=bool(match["base"]), name=name, url=url)


class CvelistSource:
    name = "cvelist"

    def steps(self, ctx: Context) -> Iterator[Step]:
        url = ctx.url
        if is_http(url) and not url.endswith(".git"):
            yield from self.release_steps(ctx)
            return
        path = local_path(url)
        if url.endswith(".git") and not path.exists() or path.is_dir() and gitcli.is_repository(path):
            yield from GitSource(name=self.name, subdir="cves/" if _has_cves_dir(ctx, path) else "").steps(
                ctx
            )
        elif path.is_dir() or path.is_file():
            yield from self.local_steps(ctx, path)
        else:
            raise UpstreamError(f"{path}: no such file or directory")

    # --- GitHub releases -----------------------------------------------------------------------------------

    def release_steps(self, ctx: Context) -> Iterator[Step]:
        assets = self.list_assets(ctx)
        if not assets:
            raise UpstreamError("cvelist: no release archives found in the releases listing")
        position = ctx.cursor.get("position", "")
        newest = max(a.position for a in assets)
        if position and newest < position:
            ctx.note(
                f"cvelist: upstream went back in time: the newest archive ({newest}) is older than the cursor "
                f"({ctx.cursor.get('archive')}); nothing applied, cursor kept"
            )
            return
        plan = self.plan(assets, position)
        if plan is None:
            baselines = sorted(a for a in assets if a.baseline)
            if not baselines:
                raise UpstreamError("cvelist: no baseline archive in the releases listing")
            if position:
                ctx.note(
                    f"cvelist: the releases listed do not reach back to the cursor ({position}): the newest "
                    "baseline is applied again"
                )
            base = baselines[-1]
            plan = [base, *self.after_baseline(assets, base)]
        if not plan:
            ctx.note(f"cvelist: no archive newer than {ctx.cursor.get('archive')}")
        for asset in plan:
            yield Step(
                items=self.download_items(ctx, asset),
                cursor={"archive": asset.name, "position": asset.position},
                label=asset.name,
            )

    @staticmethod
    def plan(assets: list[Asset], position: str) -> list[Asset] | None:
        """The deltas to apply after position, oldest first; None when the listing cannot cover the gap.

        A day is left only once its end-of-day delta is applied; until then its newest hourly delta is.
        """
        if not position:
            return None
        day, time = position.split(" ")
        deltas: dict[str, list[Asset]] = {}
        for asset in assets:
            if not asset.baseline:
                deltas.setdefault(asset.day, []).append(asset)
        current, plan = (day, time), []
        needed = _next_day(day) if time == END_OF_DAY else day
        while needed in deltas:
            of_day = sorted(deltas[needed])
            end = [a for a in of_day if a.time == END_OF_DAY]
            chosen = end[0] if end else of_day[-1]
            if (chosen.day, chosen.time) > current:
                plan.append(chosen)
                current = (chosen.day, chosen.time)
            if not end:
                return plan
            needed = _next_day(needed)
        return None if any(d > needed for d in deltas) else plan

    @staticmethod
    def after_baseline(assets: list[Asset], base: Asset) -> list[Asset]:
        """After a baseline: each later day's best delta (end of day, else the newest hourly), oldest first."""
        best: dict[str, Asset] = {}
        for asset in sorted(a for a in assets if not a.baseline and a.day >= base.day):
            best[asset.day] = asset
        return [best[d] for d in sorted(best)]

    def list_assets(self, ctx: Context) -> list[Asset]:
        assets: dict[str, Asset] = {}
        oldest_needed = ctx.cursor.get("position", "")[:10]
        for page in range(1, RELEASE_PAGES + 1):
            ctx.heartbeat()
            response = ctx.transport.get(
                ctx.url, params={"per_page": 100, "page": page},
                headers={"Accept": "application/vnd.github+json"},
            )  # fmt: skip
            try:
                releases = orjson.loads(response.content)
                found = [
                    parse_asset(str(asset["name"]), str(asset["browser_download_url"]))
                    for release in releases
                    for asset in release.get("assets", [])
                ]
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                raise UpstreamError(f"cvelist: malformed releases listing (page {page}): {exc}") from None
            for asset in found:
                if asset is not None:
                    assets.setdefault(asset.name, asset)
            days = [a.day for a in assets.values()]
            has_baseline = any(a.baseline for a in assets.values())
            if not releases or (days and oldest_needed and min(days) < oldest_needed and has_baseline):
                break
            if not oldest_needed and has_baseline:
                break
        return sorted(assets.values())

    def download_items(self, ctx: Context, asset: Asset) -> Iterator[Item]:
        response = ctx.transport.get(asset.url, dest=ctx.workdir / asset.name, on_chunk=ctx.heartbeat)
        assert response.path is not None
        archive = unwrap_zip(response.path)
        try:
            yield from read_items([archive], only_cve_files=True)
        finally:
            response.path.unlink(missing_ok=True)
            archive.unlink(missing_ok=True)

    # --- a local directory or archive ----------------------------------------------------------------------

    def local_steps(self, ctx: Context, path: Path) -> Iterator[Step]:
        if path.is_file():
            digest = _file_digest(path)
            if ctx.cursor.get("archive") == path.name and ctx.cursor.get("digest") == digest:
                ctx.note(f"cvelist: {path.name} already applied")
                return
            yield Step(
                items=self.archive_items(ctx, path),
                cursor={"archive": path.name, "digest": digest},
                label=path.name,
            )
        else:  # a plain directory: read in full every run; unchanged records cost nothing
            yield Step(
                items=read_items([path], only_cve_files=True),
                cursor={"directory": str(path)},
                label=str(path),
            )

    @staticmethod
    def archive_items(ctx: Context, path: Path) -> Iterator[Item]:
        archive = unwrap_zip(path, into=ctx.workdir)
        try:
            yield from read_items([archive], only_cve_files=True)
        finally:
            if archive != path:
                archive.unlink(missing_ok=True)


def unwrap_zip(path: Path, *, into: Path | None = None) -> Path:
    """The inner zip of a zip that holds only a zip (cvelistV5's baseline), extracted to disk; else path.

    The ingest walker reads a nested archive into memory whole; the baseline's inner zip is some 500 MB, so
    it is streamed to a file first and read member by member from there.
    """
    try:
        with zipfile.ZipFile(path) as outer:
            members = [info for info in outer.infolist() if not info.is_dir()]
            if len(members) != 1 or not members[0].filename.lower().endswith(".zip"):
                return path
            inner = (into or path.parent) / f"{path.name}.inner.zip"
            with outer.open(members[0]) as source, inner.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            return inner
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return path  # the walker reports what is wrong with it


def _has_cves_dir(ctx: Context, path: Path) -> bool:
    return not path.exists() or (path / "cves").is_dir()


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _file_digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
