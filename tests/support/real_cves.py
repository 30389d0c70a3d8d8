"""Real CVE records imported through the real importer, for the CVE page tests (client and browser).

CVE-2021-44228 comes from its OpenCVE knowledge-base file (NVD and Red Hat data, 180 vendor/product names),
then its entry of the real KEV catalog (sample-data/kev.json, cut to the CVEs used here: a second import,
so the CVE gets a KEV change in its history), an EPSS file and the CWE entries it names (cut from the real
CWE catalog, sample-data/cwec_v4.15.xml.gz, whose full import takes seconds). CVE JSON 5 files from
tests/data/cve5 bring the CNA's version ranges, CISA's ADP data and all four CVSS versions.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from cvewatch.ingest.services import import_paths

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SAMPLE = REPO / "sample-data"
LOG4SHELL = "CVE-2021-44228"
# CNA version ranges with lessThan, lessThanOrEqual and changes; all four CVSS versions.
RANGES = "CVE-2023-4785"
ALL_CVSS = "CVE-2005-10003"
KEV_CVES = (LOG4SHELL, RANGES, ALL_CVSS)
CWE_IDS = ("20", "400", "502", "917", "248", "78")


def kev_file(tmp: Path) -> Path:
    catalog = json.loads((SAMPLE / "kev.json").read_bytes())
    catalog["vulnerabilities"] = [v for v in catalog["vulnerabilities"] if v.get("cveID") in KEV_CVES]
    catalog["count"] = len(catalog["vulnerabilities"])
    path = tmp / "kev.json"
    path.write_text(json.dumps(catalog))
    return path


def cwe_file(tmp: Path) -> Path:
    """The real CWE catalog with only the weaknesses these CVEs name (same XML, fewer Weakness elements)."""
    text = gzip.decompress((SAMPLE / "cwec_v4.15.xml.gz").read_bytes()).decode()
    start, end = text.index("<Weaknesses>") + len("<Weaknesses>"), text.index("</Weaknesses>")
    kept = [
        block
        for block in re.findall(r"<Weakness ID=.*?</Weakness>", text[start:end], flags=re.S)
        if re.match(r'<Weakness ID="(\d+)"', block).group(1) in CWE_IDS
    ]
    path = tmp / "cwec.xml"
    path.write_text(text[:start] + "\n".join(kept) + text[end:])
    return path


def import_real_cves(tmp: Path) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    import_paths([cwe_file(tmp)])
    import_paths([
        DATA / "opencve-kb" / "2021" / f"{LOG4SHELL}.json",
        DATA / "cve5" / f"{RANGES}.json",
        DATA / "cve5" / f"{ALL_CVSS}.json",
    ])  # fmt: skip
    import_paths([kev_file(tmp), DATA / "epss" / "epss_scores-2024-01-01.csv"])
