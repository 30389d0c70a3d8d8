"""CVE ids and catalog names: the one home of their spelling rules. Pure Python, so the parsers use it too.

A CVE's `vendors` list is flat: a vendor is "vendor", a product is "vendor$PRODUCT$product" (OpenCVE's
shape). Two rules turn text into such names, and they differ on purpose:

- `name_from_source` (the importer's, for names a feed writes): lower case, surrounding whitespace dropped,
  every run of whitespace inside written "_" (the CPE 2.3 spelling: "Palo Alto Networks" ->
  "palo_alto_networks"), placeholders that name nothing ("n/a", "unknown", "-", ...) -> None.
- `vendor_from_query` / `product_from_query` (the API's `vendor` and `product` filters, for names a person
  types; OpenCVE's contract): lower case, surrounding whitespace dropped; inside, whitespace is removed from a
  vendor ("Palo Alto Networks" -> "paloaltonetworks", NVD's CPE vendor) and written "_" in a product
  ("Webex Meetings" -> "webex_meetings"). No placeholder rule: a query is looked up as typed.

What makes the difference safe: stored names hold no whitespace, so every name the importer stores is found
by its own spelling through either query rule (tests/catalog/test_names.py checks this). What it means: a
vendor a CNA wrote with spaces is stored as "palo_alto_networks" and is found as `vendor=palo_alto_networks`,
not as `vendor=Palo Alto Networks` (which asks for NVD's "paloaltonetworks").
"""

from __future__ import annotations

import re

PRODUCT_SEPARATOR = "$PRODUCT$"

# ASCII digits only, as the CVE JSON 5 schema's cveId pattern: `\d` would also accept other scripts' digits
# (CVE-𝟐𝟎𝟐𝟏-𝟒𝟒𝟐𝟐𝟖) unless re.ASCII.
CVE_ID_PATTERN = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}")

_WHITESPACE = re.compile(r"\s+")
# Vendor/product placeholders that name nothing (CVE 5 CNAs use them when they do not know).
_NO_NAME = frozenset({"", "n/a", "na", "unknown", "unspecified", "-", "*", "not_applicable"})


# --- CVE ids ----------------------------------------------------------------------------------------------


def is_cve_id(value: object) -> bool:
    """Whether value is a CVE id exactly as stored ("CVE-2021-44228")."""
    return isinstance(value, str) and CVE_ID_PATTERN.fullmatch(value) is not None


def normalize_cve_id(value: object) -> str | None:
    """'cve-2021-44228 ' -> 'CVE-2021-44228'; None if it is not a CVE id."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().upper()
    return candidate if CVE_ID_PATTERN.fullmatch(candidate) else None


# --- vendor and product names -----------------------------------------------------------------------------


def name_from_source(value: object) -> str | None:
    """'Palo Alto Networks ' -> 'palo_alto_networks'; None for placeholders such as 'n/a' or ''."""
    if not isinstance(value, str):
        return None
    name = _WHITESPACE.sub("_", value.strip().lower())
    return None if name in _NO_NAME else name


def vendor_from_query(value: str) -> str:
    """The `vendor` filter's spelling: 'Palo Alto Networks' -> 'paloaltonetworks'."""
    return _WHITESPACE.sub("", value.strip().lower())


def product_from_query(value: str) -> str:
    """The `product` filter's spelling: 'Webex Meetings' -> 'webex_meetings'."""
    return _WHITESPACE.sub("_", value.strip().lower())


def vendor_keys(vendor: object, product: object) -> list[str]:
    """The vendors-list entries a feed's (vendor, product) pair makes: [], ['v'] or ['v', 'v$PRODUCT$p']."""
    v = name_from_source(vendor)
    if v is None:
        return []
    p = name_from_source(product)
    return [v] if p is None else [v, product_key(v, p)]


def product_key(vendor: str, product: str) -> str:
    """'apache', 'log4j' -> 'apache$PRODUCT$log4j'."""
    return f"{vendor}{PRODUCT_SEPARATOR}{product}"


def is_product(name: str) -> bool:
    return PRODUCT_SEPARATOR in name


def split_product(name: str) -> tuple[str, str]:
    """'apache$PRODUCT$log4j' -> ('apache', 'log4j'); a vendor name -> (name, '')."""
    vendor, _, product = name.partition(PRODUCT_SEPARATOR)
    return vendor, product


def vendor_of(name: str) -> str:
    """The vendor of a vendors-list entry: 'apache$PRODUCT$log4j' -> 'apache', 'apache' -> 'apache'."""
    return name.partition(PRODUCT_SEPARATOR)[0]
