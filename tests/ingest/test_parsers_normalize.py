"""Normalisation helpers the parsers share: CPEs, timestamps, CWE ids (names: tests/catalog/test_names.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cvewatch.ingest.normalize import (
    Cpe,
    cpe_vendor_keys,
    leading_cwe_id,
    normalize_cwe_id,
    parse_date,
    parse_timestamp,
    split_cpe,
    unique,
)


@pytest.mark.parametrize(
    ("cpe", "expected"),
    [
        ("cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*", Cpe("a", "apache", "log4j")),
        ("cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*", Cpe("o", "paloaltonetworks", "pan-os")),
        ("cpe:2.3:a:foo\\:bar:baz\\\\qux:1:*:*:*:*:*:*:*", Cpe("a", "foo:bar", "baz\\qux")),
        ("cpe:2.3:a:1e:client\\!:*:*:*:*:*:*:*:*", Cpe("a", "1e", "client!")),
        ("cpe:/a:redhat:amq_streams:1", Cpe("a", "redhat", "amq_streams")),
        ("cpe:/o:redhat:enterprise_linux:8::baseos", Cpe("o", "redhat", "enterprise_linux")),
        ("cpe:/a:hp:web%21jetadmin", Cpe("a", "hp", "web!jetadmin")),
        ("cpe:2.3:a:short", None),
        ("cpe:/a", None),
        ("not a cpe", None),
        (None, None),
    ],
)
def test_split_cpe(cpe: object, expected: Cpe | None) -> None:
    assert split_cpe(cpe) == expected


def test_cpe_vendor_keys_skip_wildcards() -> None:
    assert cpe_vendor_keys("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*") == ("apache", "apache$PRODUCT$log4j")
    assert cpe_vendor_keys("cpe:2.3:h:cisco:-:*:*:*:*:*:*:*:*") == ("cisco",)
    assert cpe_vendor_keys("cpe:2.3:a:*:*:*:*:*:*:*:*:*:*") == ()
    assert cpe_vendor_keys("cpe:2.3:a:acme") == ()
    assert cpe_vendor_keys("cpe:2.3:a:foo\\:bar:baz:*:*:*:*:*:*:*:*") == ("foo:bar", "foo:bar$PRODUCT$baz")
    assert cpe_vendor_keys("cpe:/a:redhat:jboss_fuse:7") == ("redhat", "redhat$PRODUCT$jboss_fuse")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-12-10T10:15Z", datetime(2021, 12, 10, 10, 15, tzinfo=UTC)),
        ("2024-11-18T16:15:11.683", datetime(2024, 11, 18, 16, 15, 11, 683000, tzinfo=UTC)),
        ("2024-07-12T03:55:33.553945Z", datetime(2024, 7, 12, 3, 55, 33, 553945, tzinfo=UTC)),
        ("2025-08-25T17:04:19.9796Z", datetime(2025, 8, 25, 17, 4, 19, 979600, tzinfo=UTC)),
        ("2024-07-09T20:11:27.490000+00:00", datetime(2024, 7, 9, 20, 11, 27, 490000, tzinfo=UTC)),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        ("2024-01-01T00:00:00+0000", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-03-25", datetime(2024, 3, 25, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1700000000, None),
    ],
)
def test_parse_timestamp(raw: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0) and parsed.tzinfo is UTC


def test_parse_timestamp_converts_offsets_to_utc() -> None:
    parsed = parse_timestamp("2024-01-01T05:30:00-05:00")
    assert parsed == datetime(2024, 1, 1, 10, 30, tzinfo=timezone.utc) and parsed.tzinfo is UTC  # noqa: UP017


def test_parse_date() -> None:
    assert parse_date("2025-08-25") == date(2025, 8, 25)
    assert parse_date("2025-09-04T00:00:00+00:00") == date(2025, 9, 4)
    assert parse_date("25/08/2025") is None and parse_date(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("CWE-79", "CWE-79"), ("cwe-79", "CWE-79"), ("79", "CWE-79"), (79, "CWE-79"), ("CWE-079", "CWE-79"),
     ("NVD-CWE-Other", None), ("NVD-CWE-noinfo", None), ("Cross-site scripting", None), ("", None), (True, None)],
)
def test_normalize_cwe_id(raw: object, expected: str | None) -> None:
    assert normalize_cwe_id(raw) == expected


def test_leading_cwe_id_and_unique() -> None:
    assert leading_cwe_id("CWE-79 Improper Neutralization of Input") == "CWE-79"
    assert leading_cwe_id("CWE-1321: Prototype Pollution") == "CWE-1321"
    assert leading_cwe_id("Improper input validation (CWE-20)") is None
    assert unique(["b", "a", "b", "c", "a"]) == ("b", "a", "c")
