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
# A complete date has a year: written out (1800 to 2199) or in a numeric date (15.10.17).
_YEAR = re.compile(r"(?<!\d)(?:1[89]|2[01])\d{2}(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)\d{1,4}[./-]\d{1,2}[./-]\d{2,4}(?!\d)")


def parse_date(text: str) -> str | None:
    """Parse a date written in any language or format; ISO ``YYYY-MM-DD`` or None."""
    found = parse(text.strip(), settings=_SETTINGS)
    if found is None:
        return find_byline_date(text)
    return found.date().isoformat()


@lru_cache(maxsize=4096)
def find_byline_date(block: str) -> str | None:
    """The ISO date of a byline such as "Posted Octubre 15, 2017", or None if it is not one.

    Only a short block with a year in it is parsed. With an English month name, English is
    tried first (about 2 ms). Otherwise dateparser detects the language (40 ms or more: it
    weighs some 200 locales), which also decides whether 05/10/2017 is May or October, but
    only for a numeric date, a month name in some language, or another script: "Council item
    2001 was approved" is never sent there. Results are cached for rebuilds.
    """
    block = block.strip()
    if not block or len(block) > BYLINE_MAX_CHARS:
        return None
    numeric = _NUMERIC_DATE.search(block) is not None
    if not numeric and not _YEAR.search(block):
        return None
    words = {word.lower() for word in _LETTERS.findall(block)}
    matches = None
    if words & month_names()["en"]:
        matches = search_dates(block, languages=["en"], settings=_SETTINGS)
    if not matches and (
        numeric or words & month_names()["*"] or any(char > _LATIN_MAX for char in block)
    ):
        matches = search_dates(block, settings=_SETTINGS)
    if not matches and numeric and not words & month_names()["en"]:
        matches = search_dates(block, languages=["en"], settings=_SETTINGS)  # 10/15/2017
    if not matches:
        return None
    return matches[0][1].date().isoformat()


@lru_cache(maxsize=1)
def month_names() -> dict[str, frozenset[str]]:
    """Month names and abbreviations per dateparser locale, and all of them under "*".

    Read from dateparser's own locale data (~200 locales, 0.1 s), so the check that decides
    whether to run its language detection knows every month name the detection would.
    """
    import dateparser.data.date_translation_data as translations  # type: ignore[import-not-found]

    names: dict[str, frozenset[str]] = {}
    for module in pkgutil.iter_modules(translations.__path__):
        data = importlib.import_module(f"{translations.__name__}.{module.name}")
        info: dict[str, Any] = getattr(data, "info", {})
        # Two letters ("de", "no", "ma") are words in too many languages to mean a month.
        names[module.name] = frozenset(
            name.lower() for key in _MONTH_KEYS for name in info.get(key, []) if len(name) > 2
        )
    names["*"] = frozenset().union(*names.values())
    return names
