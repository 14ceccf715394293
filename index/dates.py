"""Dates of articles, parsed with ``dateparser`` so that any language's month names work.

The seed article writes "Posted Octubre 15, 2017": a hand-made month table would miss it.
"""

from __future__ import annotations

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

# A byline is a short line; longer blocks are body text even when they mention a date.
BYLINE_MAX_CHARS = 100
# A complete date has a day and a year, so a byline without a digit has none.
_DIGIT = re.compile(r"[0-9]")


def parse_date(text: str) -> str | None:
    """Parse a date written in any language or format; ISO ``YYYY-MM-DD`` or None."""
    found = parse(text.strip(), settings=_SETTINGS)
    if found is None:
        return find_byline_date(text)
    return found.date().isoformat()


@lru_cache(maxsize=4096)
def find_byline_date(block: str) -> str | None:
    """The ISO date of a byline such as "Posted Octubre 15, 2017", or None if it is not one.

    English is tried first (about 2 ms); only a block it cannot read goes through dateparser's
    language detection, which weighs some 200 locales (50 ms to 2 s). Results are cached, so
    a rebuild does not pay again for the same files.
    """
    block = block.strip()
    if not block or len(block) > BYLINE_MAX_CHARS or not _DIGIT.search(block):
        return None
    matches = search_dates(block, languages=["en"], settings=_SETTINGS) or search_dates(
        block, settings=_SETTINGS
    )
    if not matches:
        return None
    return matches[0][1].date().isoformat()
