"""No module over 500 lines (migrations aside): a module that grows past it is split along its seams."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 500
REPO = Path(__file__).resolve().parent.parent.parent


def test_no_module_is_over_500_lines():
    modules = [
        path
        for root in ("src", "tests", "bench")
        for path in (REPO / root).rglob("*.py")
        if "migrations" not in path.parts
    ]
    assert len(modules) > 50  # the walk found the tree
    too_long = {
        str(path.relative_to(REPO)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
