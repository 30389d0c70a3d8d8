"""What several feed formats spell alike and every parser reads the same way: English text, reference URLs."""

from __future__ import annotations

from cvewatch.ingest.parsers._json import as_list, as_obj, as_text


def is_english(lang: object) -> bool:
    """A language tag for English: "en" or "en-*" (any region or script), in any case."""
    return isinstance(lang, str) and (lang.lower() == "en" or lang[:3].lower() == "en-")


def english_text(entries: object, path: str) -> str | None:
    """The text of a [{"lang", "value"}] list: the first non-empty English value, else the first non-empty one."""
    first: str | None = None
    for index, entry in enumerate(as_list(entries, path)):
        entry = as_obj(entry, f"{path}[{index}]")
        value = as_text(entry.get("value"), f"{path}[{index}].value")
        if not value:
            continue
        if is_english(entry.get("lang")):
            return value
        if first is None:
            first = value
    return first


def texts_of(entries: object, path: str, key: str) -> list[str]:
    """The non-empty text under `key` of each object of a list, in order."""
    texts = []
    for index, entry in enumerate(as_list(entries, path)):
        text = as_text(as_obj(entry, f"{path}[{index}]").get(key), f"{path}[{index}].{key}")
        if text:
            texts.append(text)
    return texts


def reference_urls(entries: object, path: str) -> list[str]:
    """The non-empty "url" of each object of a references list, in order (CVE JSON 5 and NVD alike)."""
    return texts_of(entries, path, "url")
