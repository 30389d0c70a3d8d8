"""JSON loading and shape checks that fail with a ParseError naming the field, never a TypeError."""

from __future__ import annotations

import gc
from typing import Any

import orjson

from cvewatch.ingest.records import ParseError

_JSON_TYPE = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
              float: "a number", type(None): "null"}


def load_json(data: bytes) -> Any:
    """Parse a whole JSON document; empty input and syntax errors become ParseError."""
    if not data.strip():
        raise ParseError("empty file")
    try:
        return loads(data)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc}") from None


def loads(data: bytes) -> Any:
    """orjson.loads with the cyclic GC paused.

    A yearly NVD feed decodes into millions of containers; each allocation burst triggers collections
    that rescan them all, several times the cost of decoding. Decoded JSON cannot hold reference cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(data)
    finally:
        if enabled:
            gc.enable()


def kind(value: object) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def as_obj(value: object, path: str) -> dict[str, Any]:
    """An object field; absent (null) counts as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"{path}: expected an object, got {kind(value)}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    """An array field; absent (null) counts as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{path}: expected an array, got {kind(value)}")
    return value


def as_text(value: object, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ParseError(f"{path}: expected a string, got {kind(value)}")


def as_score(value: object, path: str) -> float:
    """A CVSS base score; numeric strings are accepted because some producers quote numbers."""
    if isinstance(value, bool):
        raise ParseError(f"{path}: expected a number, got a boolean")
    if isinstance(value, int | float):
        score = float(value)
    elif isinstance(value, str):
        try:
            score = float(value)
        except ValueError:
            raise ParseError(f"{path}: expected a number, got {value[:40]!r}") from None
    else:
        raise ParseError(f"{path}: expected a number, got {kind(value)}")
    if not 0.0 <= score <= 10.0:
        raise ParseError(f"{path}: CVSS score {score} is outside 0-10")
    return score


def dumps(value: Any) -> bytes:
    """orjson.dumps; a value nested beyond orjson's depth limit (255) becomes a ParseError."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ParseError(f"cannot keep the record as JSON: {exc}") from None
