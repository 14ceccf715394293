"""Dates of articles, parsed with ``dateparser`` so that any language's month names work.

The seed article writes "Posted Octubre 15, 2017": a hand-made month table would miss it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from typing import Any

from dateparser import parse
from dateparser.search import search_dates

# Only absolute, complete dates: "Yesterday" or "on Saturday" in a first paragraph is no byline.
_SETTINGS: Any = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["custom-formats", "absolute-time"],
    "RETURN_AS_TIMEZONE_AWARE": False,
}

_MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN_MAX = "\u024f"  # past Latin Extended-B: Greek, Cyrillic, Arabic, CJK...

# A byline is a short line; longer blocks are body text even when they mention a date.
BYLINE_MAX_CHARS = 100
# A complete date has a year: 1800 to 2199, or two digits at the end of 15/10/17.
_YEARISH = re.compile(
    r"(?<![0-9])(?:1[89]|2[01])[0-9]{2}(?![0-9])|[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{2}"
)


def parse_date(text: str) -> str | None:
    """Parse a date written in any language or format; ISO ``YYYY-MM-DD`` or None."""
    found = parse(text.strip(), settings=_SETTINGS)
    if found is None:
        return find_byline_date(text)
    return found.date().isoformat()


@lru_cache(maxsize=4096)
def find_byline_date(block: str) -> str | None:
    """The ISO date of a byline such as "Posted Octubre 15, 2017", or None if it is not one.

    Only a short block with something like a year is parsed. English is tried first (about
    2 ms). dateparser's language detection weighs some 200 locales (40 ms or more), so it
    runs only for a block that names a month in some language or is written in another script.
    Results are cached, so a rebuild does not pay again for the same files.
    """
    block = block.strip()
    if not block or len(block) > BYLINE_MAX_CHARS or not _YEARISH.search(block):
        return None
    matches = search_dates(block, languages=["en"], settings=_SETTINGS)
    if not matches and _may_be_foreign_date(block):
        matches = search_dates(block, settings=_SETTINGS)
    if not matches:
        return None
    return matches[0][1].date().isoformat()


def _may_be_foreign_date(block: str) -> bool:
    words = {word.lower() for word in _LETTERS.findall(block)}
    return bool(words & month_names()) or any(char > _LATIN_MAX for char in block)


@lru_cache(maxsize=1)
def month_names() -> frozenset[str]:
    """Every month name and abbreviation dateparser knows, in its ~200 locales (~0.1 s)."""
    import dateparser.data.date_translation_data as translations  # type: ignore[import-not-found]

    names: set[str] = set()
    for module in pkgutil.iter_modules(translations.__path__):
        data = importlib.import_module(f"{translations.__name__}.{module.name}")
        info: dict[str, Any] = getattr(data, "info", {})
        for key in _MONTH_KEYS:
            names.update(name.lower() for name in info.get(key, []))
    return frozenset(names)
