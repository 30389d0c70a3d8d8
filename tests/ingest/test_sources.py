"""The input walker: directories, archives, gzip, format detection, and bad input as Skipped."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import orjson
import pytest

from cvewatch.ingest.records import CveRecord, CweEntry, EpssScore, Item, KevEntry, ParseError, Skipped
from cvewatch.ingest.sources import detect_format, iter_items

DATA = Path(__file__).resolve().parent.parent / "data"
CVE5 = DATA / "cve5"
FAMILIES = [
    "cve5",
    "nvd-1.1",
    "nvd-api-2.0",
    "opencve-kb",
    "opencve-kb-versions",
    "kev",
    "cwe",
    "epss",
    "osv",
]


def _kinds(items: list[Item]) -> Counter[str]:
    return Counter(type(i).__name__ for i in items)


def _skipped(items: list[Item]) -> list[Skipped]:
    return [i for i in items if isinstance(i, Skipped)]


def _cve_files(count: int) -> list[Path]:
    return sorted(CVE5.glob("CVE-*.json"))[:count]


def test_walks_every_fixture_family() -> None:
    items = list(iter_items([DATA / family for family in FAMILIES]))
    records = [i for i in items if isinstance(i, CveRecord)]
    by_source = Counter(r.source for r in records)
    assert by_source == {"mitre": 200, "vulnrichment": 177, "nvd": 35, "opencve": 11}
    assert _kinds(items)["KevEntry"] == 25
    assert _kinds(items)["CweEntry"] == 3
    assert _kinds(items)["EpssScore"] == 8
    skipped = {Path(s.origin).name: s.reason for s in _skipped(items)}
    # MANIFEST.csv files inside walked directories are silently ignored; these are the only skips.
    assert skipped == {
        "CVE-2025-8875.json": "no opencve block: not a CVE record (KEV-only stub?)",
        "GO-2020-0001.json": "unsupported format (an OSV record; OSV is not an import format)",
        "GO-2024-2442.json": "unsupported format (an OSV record; OSV is not an import format)",
    }


def test_directory_order_is_sorted_and_hidden_entries_are_ignored(tmp_path: Path) -> None:
    files = _cve_files(3)
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".git").mkdir()
    shutil.copy(files[0], tmp_path / "b" / files[0].name)
    shutil.copy(files[1], tmp_path / "a" / files[1].name)
    shutil.copy(files[2], tmp_path / ".git" / files[2].name)
    (tmp_path / ".hidden.json").write_bytes(files[2].read_bytes())
    (tmp_path / "README.md").write_text("# notes\n")
    (tmp_path / "LICENSE").write_text("CC0\n")
    (tmp_path / "a" / "flowchart.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "thing_schema.json").write_text('{"$schema": "x"}')
    seen: list[str] = []
    items = list(iter_items([tmp_path], on_progress=seen.append))
    ids = [i.cve_id for i in items if isinstance(i, CveRecord) and i.source == "mitre"]
    assert ids == [files[1].stem, files[0].stem]
    assert not _skipped(items)
    assert seen == [str(tmp_path / "a" / files[1].name), str(tmp_path / "b" / files[0].name)]


def test_explicit_non_data_files_and_missing_paths_are_reported(tmp_path: Path) -> None:
    items = list(iter_items([CVE5 / "MANIFEST.csv", tmp_path / "nope.json", DATA / "kev" / "does-not-exist"]))
    assert items == [
        Skipped(
            str(CVE5 / "MANIFEST.csv"),
            "not a data file (documentation, licence, manifest or schema): ignored",
        ),
        Skipped(str(tmp_path / "nope.json"), "no such file or directory"),
        Skipped(str(DATA / "kev" / "does-not-exist"), "no such file or directory"),
    ]


def _tar_gz(path: Path, files: list[Path]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for file in files:
            year = file.stem.split("-")[1]
            tar.add(file, arcname=f"{year}/1xxx/{file.name}")
        info = tarfile.TarInfo("README.md")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))


def test_tar_gz_bundle_streams_members_with_origins(tmp_path: Path) -> None:
    files = _cve_files(5)
    bundle = tmp_path / "bundle.tar.gz"
    _tar_gz(bundle, files)
    items = list(iter_items([bundle]))
    mitre = [i for i in items if isinstance(i, CveRecord) and i.source == "mitre"]
    assert [r.cve_id for r in mitre] == [f.stem for f in files]
    assert mitre[0].raw == files[0].read_bytes()
    assert not _skipped(items)
    origin = f"{bundle}!{files[0].stem.split('-')[1]}/1xxx/{files[0].name}"
    bad = tmp_path / "bad.tgz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo("2023/CVE-2023-0001.json")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"{x}"))
    assert list(iter_items([bad])) == [
        Skipped(f"{bad}!2023/CVE-2023-0001.json", "invalid JSON: " + _json_error(b"{x}"))
    ]
    assert origin.startswith(str(bundle) + "!")


def test_links_and_devices_in_a_tar_are_reported_as_skipped_with_their_reason(tmp_path: Path) -> None:
    (cve,) = _cve_files(1)
    bundle = tmp_path / "special.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(cve, arcname=f"cves/{cve.name}")
        for name, kind in (("cves/link.json", tarfile.SYMTYPE), ("cves/hard.json", tarfile.LNKTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            tar.addfile(info)
        for name, kind in (("cves/tty.json", tarfile.CHRTYPE), ("cves/fifo.json", tarfile.FIFOTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            tar.addfile(info)
        directory = tarfile.TarInfo("cves/empty-dir")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
    items = list(iter_items([bundle]))
    assert [i.cve_id for i in items if isinstance(i, CveRecord) and i.source == "mitre"] == [cve.stem]
    assert _skipped(items) == [
        Skipped(f"{bundle}!cves/link.json", "a symbolic link in the archive: links are not followed"),
        Skipped(f"{bundle}!cves/hard.json", "a hard link in the archive: links are not followed"),
        Skipped(f"{bundle}!cves/tty.json", "a device or FIFO in the archive: not read"),
        Skipped(f"{bundle}!cves/fifo.json", "a device or FIFO in the archive: not read"),
    ]  # a directory is no input: nothing to report


def _json_error(data: bytes) -> str:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return str(exc)
    raise AssertionError("valid JSON")


def test_truncated_tar_gz_keeps_what_was_readable_then_reports_the_damage(tmp_path: Path) -> None:
    files = _cve_files(60)
    bundle = tmp_path / "bundle.tar.gz"
    _tar_gz(bundle, files)
    data = bundle.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    items = list(iter_items([cut]))
    mitre = [i.cve_id for i in items if isinstance(i, CveRecord) and i.source == "mitre"]
    assert 10 < len(mitre) < 60
    assert mitre == [f.stem for f in files[: len(mitre)]]
    (damage,) = _skipped(items)
    assert damage.origin == str(cut) and "truncated or corrupt" in damage.reason
    assert items[-1] == damage


def test_zip_with_a_bad_member_keeps_the_others(tmp_path: Path) -> None:
    files = _cve_files(3)
    archive = tmp_path / "records.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in files:
            zf.write(file, arcname=f"cves/{file.name}")
        zf.writestr("cves/CVE-2024-9999.json", b"{}")
    data = bytearray(archive.read_bytes())
    # Corrupt the compressed body of the second member: its CRC check fails when read.
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(f"cves/{files[1].name}")
    body = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(body + 10, body + 40):
        data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
    items = list(iter_items([archive]))
    mitre = [i.cve_id for i in items if isinstance(i, CveRecord) and i.source == "mitre"]
    assert mitre == [files[0].stem, files[2].stem]
    skipped = _skipped(items)
    assert [s.origin for s in skipped] == [
        f"{archive}!cves/{files[1].name}",
        f"{archive}!cves/CVE-2024-9999.json",
    ]
    assert "cannot read zip member" in skipped[0].reason
    assert "unsupported format" in skipped[1].reason
    not_zip = tmp_path / "fake.zip"
    not_zip.write_bytes(b"PK not really")
    (skip,) = iter_items([not_zip])
    assert isinstance(skip, Skipped) and "not a readable zip archive" in skip.reason


def test_gzip_files_plain_and_truncated(tmp_path: Path) -> None:
    feed = tmp_path / "nvdcve-1.1-2002.json.gz"
    feed.write_bytes(gzip.compress((DATA / "nvd-1.1" / "nvdcve-1.1-fixtures.json").read_bytes()))
    items = list(iter_items([feed]))
    assert _kinds(items) == {"CveRecord": 33}
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(feed.read_bytes()[:5000])
    (skip,) = iter_items([cut])
    assert skip == Skipped(
        str(cut),
        "truncated or corrupt gzip: Compressed file ended before the end-of-stream marker was reached",
    )
    epss = tmp_path / "epss_scores-2024-01-01.csv.gz"
    epss.write_bytes(gzip.compress((DATA / "epss" / "epss_scores-2024-01-01.csv").read_bytes()))
    scores = list(iter_items([epss]))
    assert len(scores) == 5 and all(isinstance(s, EpssScore) for s in scores)


def test_bad_files_each_become_one_skip_and_nothing_else_is_lost(tmp_path: Path) -> None:
    bad = {
        "empty.json": (b"", "empty file"),
        "blank.json": (b"  \n", "empty file"),
        "broken.json": (b'{"dataType": "CVE_RECORD", ', "invalid JSON"),
        "list.json": (b"[1, 2, 3]", "unsupported format"),
        "binary.bin": (b"\x00\x01\x02", "unsupported format"),
        "wrong-type.json": (
            orjson.dumps({"dataType": "CVE_RECORD", "cveMetadata": {"cveId": 2023}}),
            "cveMetadata.cveId 2023 is not a CVE id",
        ),
        "evil.xml": (
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n<Weakness_Catalog/>',
            "DOCTYPE or ENTITY declaration is refused",
        ),
    }
    for name, (content, _reason) in bad.items():
        (tmp_path / name).write_bytes(content)
    shutil.copy(_cve_files(1)[0], tmp_path / "good.json")
    items = list(iter_items([tmp_path]))
    skipped = {Path(s.origin).name: s.reason for s in _skipped(items)}
    assert set(skipped) == set(bad)
    for name, (_content, reason) in bad.items():
        assert reason in skipped[name], name
    assert [i.cve_id for i in items if isinstance(i, CveRecord)][:1] == [_cve_files(1)[0].stem]


def test_zip_of_a_cwe_catalog(tmp_path: Path) -> None:
    archive = tmp_path / "cwec_latest.xml.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(DATA / "cwe" / "cwec_sample.xml", arcname="cwec_v4.15.xml")
    items = list(iter_items([archive]))
    assert [i.cwe_id for i in items if isinstance(i, CweEntry)] == ["CWE-79", "CWE-89", "CWE-1"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("cve5/CVE-2021-44529.json", "cve5"),
        ("nvd-1.1/nvdcve-1.1-fixtures.json", "nvd-1.1"),
        ("nvd-api-2.0/CVE-2024-0012.json", "nvd-2.0"),
        ("opencve-kb/2021/CVE-2021-44228.json", "opencve-kb"),
        ("opencve-kb/2025/CVE-2025-8875.json", "opencve-kb"),
        ("kev/kev_subset.json", "kev"),
        ("cwe/cwec_sample.xml", "cwe"),
        ("epss/epss_scores-2024-01-01.csv", "epss"),
        ("epss/epss_plain.csv", "epss"),
    ],
)
def test_detect_format(path: str, expected: str) -> None:
    # The detection the walker itself runs on every file (it parses from the document decoded here).
    detected = detect_format((DATA / path).read_bytes(), Path(path).name)
    assert detected.format == expected
    assert (detected.doc is None) == (expected in ("epss", "cwe"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((DATA / "osv" / "GO-2020-0001.json").read_bytes(), "unsupported format (an OSV record"),
        ((DATA / "cve5" / "MANIFEST.csv").read_bytes(), "unsupported format (not JSON, an EPSS CSV"),
        (b'{"$schema": "x", "type": "object"}', "unsupported format (a JSON schema, not data)"),
        (b"{broken", "invalid JSON"),
        (b" \n", "empty file"),
    ],
)
def test_detect_format_says_why_a_file_is_no_format(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as refused:
        detect_format(data, "x.json")
    assert str(refused.value).startswith(reason)


def test_detect_format_of_api_pages_and_wrappers() -> None:
    cve = orjson.loads((DATA / "nvd-api-2.0" / "CVE-2024-0056.json").read_bytes())
    assert (
        detect_format(orjson.dumps({"vulnerabilities": [{"cve": cve}], "format": "NVD_CVE"}), "p.json").format
        == "nvd-2.0"
    )
    assert detect_format(orjson.dumps({"cve": cve}), "c.json").format == "nvd-2.0"


def test_kev_entries_come_through_the_walker() -> None:
    items = list(iter_items([DATA / "kev" / "kev_subset.json"]))
    assert len(items) == 25 and all(isinstance(i, KevEntry) for i in items)


def test_a_directory_that_cannot_be_read_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    files = _cve_files(3)
    for sub, file in zip(("a", "b", "c"), files, strict=True):
        (tmp_path / sub).mkdir()
        shutil.copy(file, tmp_path / sub / file.name)
    walk = iter_items([tmp_path])
    first = next(walk)
    assert isinstance(first, CveRecord) and first.cve_id == files[0].stem
    # The walk is lazy: "b" is listed but not yet read, so removing it now makes reading it fail.
    shutil.rmtree(tmp_path / "b")
    rest = list(walk)
    assert Skipped(str(tmp_path / "b"), "cannot read directory: No such file or directory") in rest
    assert files[2].stem in [i.cve_id for i in rest if isinstance(i, CveRecord)]
