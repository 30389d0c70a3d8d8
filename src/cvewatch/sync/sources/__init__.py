"""The sync sources by name (config.SYNC_SOURCE_NAMES is the one list of names)."""

from __future__ import annotations

from collections.abc import Callable

from cvewatch import config
from cvewatch.sync.sources.base import Source


def _cvelist() -> Source:
    from cvewatch.sync.sources.cvelist import CvelistSource

    return CvelistSource()


def _nvd() -> Source:
    from cvewatch.sync.sources.nvd import NvdSource

    return NvdSource()


def _kev() -> Source:
    from cvewatch.sync.sources.documents import KEV

    return KEV


def _epss() -> Source:
    from cvewatch.sync.sources.documents import EPSS

    return EPSS


def _cwe() -> Source:
    from cvewatch.sync.sources.documents import CWE

    return CWE


def _opencve_kb() -> Source:
    from cvewatch.sync.sources.git import GitSource

    return GitSource(name="opencve-kb")


SOURCES: dict[str, Callable[[], Source]] = {
    "cvelist": _cvelist, "nvd": _nvd, "kev": _kev, "epss": _epss, "cwe": _cwe, "opencve-kb": _opencve_kb,
}  # fmt: skip
assert tuple(SOURCES) == config.SYNC_SOURCE_NAMES


def make_source(name: str) -> Source:
    return SOURCES[name]()
