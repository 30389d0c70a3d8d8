"""catalog.names: the one spelling of CVE ids and vendor/product names, for the importer and the filters."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cvewatch.catalog.names import (
    is_cve_id,
    is_product,
    name_from_source,
    normalize_cve_id,
    product_from_query,
    product_key,
    split_product,
    vendor_from_query,
    vendor_keys,
    vendor_of,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CVE-2021-44228", "CVE-2021-44228"),
        (" cve-2024-1234567 ", "CVE-2024-1234567"),
        ("CVE-2021-123", None),
        ("CVE-21-44228", None),
        ("GHSA-xxxx", None),
        ("CVE-2021-44228x", None),
        ("xCVE-2021-44228", None),
        (2021, None),
        (None, None),
        # Digits of other scripts are refused, as the CVE JSON 5 schema's [0-9] does (Python's \d takes them).
        ("CVE-𝟐𝟎𝟐𝟏-𝟒𝟒𝟐𝟐𝟖", None),  # mathematical bold digits
        ("CVE-٢٠٢١-٤٤٢٢٨", None),  # Arabic-Indic digits
        ("CVE-2021-４４２２８", None),  # fullwidth digits
    ],
)
def test_cve_ids(raw: object, expected: str | None) -> None:
    assert normalize_cve_id(raw) == expected
    assert is_cve_id(raw) == (expected is not None and raw == expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Apache", "apache"),
        ("  Palo Alto\tNetworks ", "palo_alto_networks"),
        ("Linux   Kernel", "linux_kernel"),
        ("pan-os", "pan-os"),
        ("n/a", None),
        ("N/A", None),
        ("unknown", None),
        ("Not Applicable", None),
        ("", None),
        ("   ", None),
        (None, None),
        (42, None),
    ],
)
def test_names_from_sources(raw: object, expected: str | None) -> None:
    assert name_from_source(raw) == expected


def test_vendor_keys_make_the_flat_vendors_list() -> None:
    assert vendor_keys("Apache Software Foundation", "Apache Log4j2") == [
        "apache_software_foundation",
        "apache_software_foundation$PRODUCT$apache_log4j2",
    ]
    assert vendor_keys("google", "n/a") == ["google"]
    assert vendor_keys("n/a", "Ivanti EPM") == []


def test_products_in_the_flat_list() -> None:
    name = product_key("apache", "log4j")
    assert name == "apache$PRODUCT$log4j"
    assert is_product(name) and not is_product("apache")
    assert split_product(name) == ("apache", "log4j")
    assert vendor_of(name) == "apache" and vendor_of("apache") == "apache"


@pytest.mark.parametrize(
    ("typed", "vendor", "product"),
    [
        ("Apache", "apache", "apache"),
        (" Palo Alto Networks ", "paloaltonetworks", "palo_alto_networks"),
        ("Webex\tMeetings", "webexmeetings", "webex_meetings"),
        ("palo_alto_networks", "palo_alto_networks", "palo_alto_networks"),
        ("n/a", "n/a", "n/a"),  # no placeholder rule for a query: looked up as typed, and not found
    ],
)
def test_the_query_rules(typed: str, vendor: str, product: str) -> None:
    assert vendor_from_query(typed) == vendor
    assert product_from_query(typed) == product


SOURCE_SPELLINGS = [
    "Apache", "Palo Alto Networks", "  Linux\tKernel ", "pan-os", "log4j", "Microsoft Windows 10 Version 1809",
    "foo:bar", "Ivanti EPM 2022 SU5", "1e", "client!",
]  # fmt: skip


@pytest.mark.parametrize("raw", SOURCE_SPELLINGS)
def test_every_stored_name_is_found_by_its_own_spelling(raw: str) -> None:
    # The rules differ on purpose (see the module): what they must agree on is that a stored name, typed as
    # the API serves it, reaches itself through both query rules.
    stored = name_from_source(raw)
    assert stored is not None
    assert vendor_from_query(stored) == stored
    assert product_from_query(stored) == stored
    assert vendor_from_query(stored.upper()) == stored


def test_the_documented_difference_between_source_and_query_rules() -> None:
    # A CNA's spaced vendor is stored with "_", while `vendor=` with spaces asks for NVD's spelling.
    assert name_from_source("Palo Alto Networks") == "palo_alto_networks"
    assert vendor_from_query("Palo Alto Networks") == "paloaltonetworks"
    # For products both rules write "_".
    assert product_from_query("Webex Meetings") == name_from_source("Webex Meetings") == "webex_meetings"


def test_the_module_imports_nothing_of_django() -> None:
    # The parsers use it: a fresh interpreter that imports it must not load Django.
    code = "import sys, cvewatch.catalog.names, cvewatch.catalog.vocabulary; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
