"""NVD: the CVE API 2.0 (the default), or NVD's JSON 1.1 feed files (a URL, a file or a directory of them).

API cursor: the end of the last lastModified window fully imported. The first run lists everything (no
date filter); later runs ask for windows of at most 120 days (NVD's limit) from the cursor to now, paged
with startIndex/resultsPerPage, within NVD's rate limits (5 requests per rolling 30 s, 50 with an API key,
sent as the apiKey header). Each window is a step: days of downtime are caught up window by window.

Feed cursor: the feed's CVE_data_timestamp. Feeds newer than the cursor are applied oldest first; a feed
older than the cursor is noticed and not applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from cvewatch.ingest.parsers.nvd import nvd_api_records
from cvewatch.ingest.records import Item, ParseError
from cvewatch.sync.errors import UpstreamError
from cvewatch.sync.sources.base import Context, Step, head_bytes, read_items, url_filename
from cvewatch.sync.transport import RateLimiter, is_http, local_path

MAX_WINDOW = timedelta(days=120)
RESULTS_PER_PAGE = 2000  # the API's maximum for /cves/2.0
RATE_PERIOD = 30.0
RATE_WITHOUT_KEY, RATE_WITH_KEY = 5, 50
FEED_SUFFIXES = (".json", ".json.gz", ".json.zip", ".zip", ".gz")
FEED_TIMESTAMP = re.compile(rb'"CVE_data_timestamp"\s*:\s*"([^"]+)"')


def is_feed(url: str) -> bool:
    return not is_http(url) or url.split("?", 1)[0].lower().endswith(FEED_SUFFIXES)


class NvdSource:
    name = "nvd"

    def steps(self, ctx: Context) -> Iterator[Step]:
        if is_feed(ctx.url):
            yield from self.feed_steps(ctx)
        else:
            yield from self.api_steps(ctx)

    # --- API 2.0 -------------------------------------------------------------------------------------------

    def api_steps(self, ctx: Context, *, now: datetime | None = None) -> Iterator[Step]:
        limiter = RateLimiter(
            max_requests=RATE_WITH_KEY if ctx.api_key else RATE_WITHOUT_KEY, period=RATE_PERIOD
        )
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        last = ctx.cursor.get("last_modified")
        if not last:
            yield Step(
                items=self.pages(ctx, limiter, {}),
                cursor={"last_modified": now.isoformat()},
                label="full listing",
            )
            return
        start = datetime.fromisoformat(last)
        if start > now:
            ctx.note(f"nvd: the cursor {last} is in the future (clock change?); nothing asked, cursor kept")
            return
        while start < now:
            end = min(start + MAX_WINDOW, now)
            window = {"lastModStartDate": _nvd_date(start), "lastModEndDate": _nvd_date(end)}
            yield Step(
                items=self.pages(ctx, limiter, window), cursor={"last_modified": end.isoformat()},
                label=f"lastModified {start.isoformat()} .. {end.isoformat()}",
            )  # fmt: skip
            start = end

    def pages(self, ctx: Context, limiter: RateLimiter, window: dict[str, str]) -> Iterator[Item]:
        headers = {"apiKey": ctx.api_key} if ctx.api_key else {}
        index, total = 0, None
        while total is None or index < total:
            ctx.heartbeat()
            limiter.wait()
            params: dict[str, str | int] = {**window, "resultsPerPage": RESULTS_PER_PAGE, "startIndex": index}
            response = ctx.transport.get(ctx.url, params=params, headers=headers)
            try:
                doc = orjson.loads(response.content)
                total = int(doc["totalResults"])
                count = len(doc["vulnerabilities"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise UpstreamError(f"nvd: malformed API page at startIndex {index}: {exc}") from None
            try:
                yield from nvd_api_records(doc, origin=f"{ctx.url} startIndex={index}")
            except ParseError as exc:
                raise UpstreamError(f"nvd: unusable API page at startIndex {index}: {exc}") from None
            if count == 0:
                break  # fewer results than announced: the listing changed under us; the next run asks again
            index += count

    # --- JSON 1.1 feeds ------------------------------------------------------------------------------------

    def feed_steps(self, ctx: Context) -> Iterator[Step]:
        cursor, etag = ctx.cursor, ""
        if is_http(ctx.url):
            headers = {"If-None-Match": cursor["etag"]} if cursor.get("etag") else {}
            dest = ctx.workdir / url_filename(ctx.url, "nvdcve-feed.json.gz")
            response = ctx.transport.get(ctx.url, headers=headers, dest=dest, on_chunk=ctx.heartbeat)
            if response.not_modified or response.path is None:
                ctx.note("nvd: feed not modified since the last run (ETag)")
                return
            files, etag = [response.path], response.etag
        else:
            path = local_path(ctx.url)
            if path.is_dir():
                files = sorted(
                    p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(FEED_SUFFIXES)
                )
            elif path.is_file():
                files = [path]
            else:
                raise UpstreamError(f"{path}: no such file or directory")
        feeds = sorted((_feed_timestamp(f), f.name, f) for f in files)
        last = cursor.get("feed_timestamp", "")
        newer = [(ts, f) for ts, _, f in feeds if not last or ts > last]
        if not newer:
            newest = feeds[-1][0] if feeds else ""
            if newest and newest < last:
                ctx.note(
                    f"nvd: upstream went back in time: the newest feed ({newest}) is older than the cursor "
                    f"({last}); nothing applied, cursor kept"
                )
            else:
                ctx.note(f"nvd: no feed newer than {last}")
            return
        for ts, f in newer:
            yield Step(
                items=read_items([f]), cursor={"feed_timestamp": ts, "feed": f.name, "etag": etag},
                label=f"{f.name} ({ts})",
            )  # fmt: skip


def _feed_timestamp(path: Path) -> str:
    """The feed's CVE_data_timestamp (ISO, sortable as text)."""
    try:
        match = FEED_TIMESTAMP.search(head_bytes(path))
    except (OSError, EOFError, ValueError) as exc:
        raise UpstreamError(f"{path.name}: unreadable feed: {exc}") from None
    if match:
        return match.group(1).decode()
    raise UpstreamError(f"{path.name}: not an NVD JSON 1.1 feed (no CVE_data_timestamp)")


def _nvd_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
