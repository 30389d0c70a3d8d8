"""FIRST EPSS scores CSV: `cve,epss,percentile`, optionally after a `#model_version:...,score_date:...` line."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

from cvewatch.catalog.names import normalize_cve_id
from cvewatch.ingest.normalize import parse_date
from cvewatch.ingest.records import EpssScore, ParseError, Skipped

HEADER = ("cve", "epss", "percentile")


def parse_epss(data: bytes, *, origin: str = "") -> Iterator[EpssScore | Skipped]:
    """One EpssScore per row; a bad row yields Skipped naming its line number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"EPSS CSV is not UTF-8: {exc}") from None
    lines = text.splitlines()
    index = 0
    score_date: date | None = None
    if lines and lines[0].startswith("#"):
        score_date = _score_date(lines[0])
        index = 1
    if index >= len(lines) or tuple(c.strip().lower() for c in lines[index].split(",")) != HEADER:
        found = lines[index][:60] if index < len(lines) else "end of file"
        raise ParseError(f"not an EPSS CSV: expected header 'cve,epss,percentile', found {found!r}")
    return _rows(lines, index + 1, score_date, origin)


def _score_date(comment: str) -> date | None:
    """score_date from '#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000'."""
    for part in comment.lstrip("#").split(","):
        key, _, value = part.partition(":")
        if key.strip() == "score_date":
            return parse_date(value.strip())
    return None


def _rows(lines: list[str], start: int, score_date: date | None, origin: str) -> Iterator[EpssScore | Skipped]:
    for number in range(start, len(lines)):
        line = lines[number]
        if not line.strip():
            continue
        where = f"{origin}:{number + 1}"
        fields = line.split(",")
        if len(fields) != 3:
            yield Skipped(where, f"line {number + 1}: expected 3 fields, got {len(fields)}")
            continue
        cve_id = normalize_cve_id(fields[0])
        if cve_id is None:
            yield Skipped(where, f"line {number + 1}: {fields[0][:40]!r} is not a CVE id")
            continue
        try:
            score, percentile = float(fields[1]), float(fields[2])
        except ValueError:
            yield Skipped(where, f"line {number + 1}: epss/percentile are not numbers")
            continue
        if not (0.0 <= score <= 1.0 and 0.0 <= percentile <= 1.0) or math.isnan(score + percentile):
            yield Skipped(where, f"line {number + 1}: epss/percentile outside 0-1")
            continue
        yield EpssScore(cve_id=cve_id, score=score, percentile=percentile, score_date=score_date)
