"""Fuzz targets: every feed parser and the input walker, run by atheris (tests/fuzz/run.py).

A target may only end in the parser's documented way (ParseError, or Skipped items from the walker);
anything else escaping is a finding. Seeds are the real fixtures in tests/data/.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["cvewatch"]):
    from cvewatch.ingest.parsers._json import load_json
    from cvewatch.ingest.parsers.cve5 import cve5_records
    from cvewatch.ingest.parsers.cwe import parse_cwe
    from cvewatch.ingest.parsers.epss import parse_epss
    from cvewatch.ingest.parsers.kev import kev_entries
    from cvewatch.ingest.parsers.nvd import nvd_api_records, nvd_feed_records
    from cvewatch.ingest.parsers.opencve_kb import opencve_kb_record
    from cvewatch.ingest.records import ParseError
    from cvewatch.ingest.sources import Limits, MiB, iter_items

DATA = Path(__file__).resolve().parent.parent / "data"


def _doc(data: bytes) -> Any:
    try:
        return load_json(data)
    except ParseError:
        return None


def _json_target(parse: Callable[[Any, bytes], object]) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        doc = _doc(data)
        if doc is None:
            return
        try:
            result = parse(doc, data)
            if result is not None and not isinstance(result, str | bytes):
                list(result)  # type: ignore[call-overload]  # generators raise lazily
        except ParseError:
            pass

    return target


def _bytes_target(parse: Callable[[bytes], object]) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        try:
            list(parse(data))  # type: ignore[call-overload]
        except ParseError:
            pass

    return target


_WALKER_NAMES = ("feed.json", "feed.json.gz", "bundle.zip", "bundle.tar.gz", "scores.csv", "catalog.xml")
# In the working directory: libFuzzer ends the process with exit(), so no Python clean-up ever runs.
_WALKER_DIR = Path(tempfile.mkdtemp(prefix="walker-input-", dir=Path.cwd()))
# Small limits so the fuzzer reaches the caps and the streamed NVD parsing with inputs of a few KiB.
_WALKER_LIMITS = Limits(max_bytes=4 * MiB, ratio_floor=64 * 1024, stream_above=2048)


def walker(data: bytes) -> None:
    """The walker never raises: whatever the bytes and whatever the name, it yields items or Skipped."""
    name = _WALKER_NAMES[data[0] % len(_WALKER_NAMES)] if data else "empty.json"
    path = _WALKER_DIR / name
    path.write_bytes(data[1:])
    list(iter_items([path], limits=_WALKER_LIMITS))


TARGETS: dict[str, tuple[Callable[[bytes], None], list[Path]]] = {
    "cve5": (_json_target(lambda doc, raw: cve5_records(doc, raw=raw)), [DATA / "cve5"]),
    "nvd-feed": (_json_target(lambda doc, raw: nvd_feed_records(doc, origin="fuzz")), [DATA / "nvd-1.1"]),
    "nvd-api": (_json_target(lambda doc, raw: nvd_api_records(doc, origin="fuzz")), [DATA / "nvd-api-2.0"]),
    "kev": (_json_target(lambda doc, raw: kev_entries(doc, origin="fuzz")), [DATA / "kev"]),
    "opencve-kb": (_json_target(lambda doc, raw: [opencve_kb_record(doc, raw=raw)]),
                   [DATA / "opencve-kb", DATA / "opencve-kb-versions"]),
    "epss": (_bytes_target(lambda data: parse_epss(data, origin="fuzz")), [DATA / "epss"]),
    "cwe": (_bytes_target(lambda data: parse_cwe(data, origin="fuzz")), [DATA / "cwe"]),
    "walker": (walker, [DATA / "ingest", DATA / "kev", DATA / "epss", DATA / "cwe"]),
}
