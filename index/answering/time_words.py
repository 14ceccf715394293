"""A question's own time words: a date range to keep candidates in, and "newest first".

"On March 2, 1987, which engine makers ...", "What happened in Raqqa in October 2017?",
"before March 1987", "since 1 March", "last week" (counted back from the newest article, since
a news archive's "now" is its last story) and "latest" / "most recent" / "newest". A day or a
month with its year at the question's start only filters, so it is taken out of the words
matched against sentences (no sentence says "On March 2, 1987, ..."); a bare year, another
month, and "last week" stay in them, since they are as often what a sentence is about ("output
in 1987", "contracts traded in February 1987", "rigs working this week") as when it was written.

Care is taken not to read what is asked as a filter: "When did X happen?" and "which year"
questions take no year filter, "the 1987 budget" or "within the last week" none at all. The
caller also drops a range that no article of the index could fall in (``overlaps``): a year
that no story is dated in is the question's subject, not its date. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from index.corpus.event_dates import MONTHS
from index.errors import NewsdeskError

_MONTH_NUMBER = {name: number for number, name in enumerate(MONTHS, 1)} | {
    name[:3]: number for number, name in enumerate(MONTHS, 1)
}
_MONTH_NUMBER["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# A day, in either order, with or without its year: "March 2, 1987", "2 March 1987", "1 March".
_DATE = (
    rf"(?:(?P<m1>{_MONTH})\s+(?P<d1>{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?"
    rf"|(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH}),?(?:\s+(?P<y2>{_YEAR}))?"
    rf"|(?P<m3>{_MONTH})\s+(?P<y3>{_YEAR})"
    rf"|(?P<y4>{_YEAR})(?![\s-]*\d)"
    rf"|(?P<m4>{_MONTH}))"
)
_BOUND = re.compile(rf"\b(?P<word>before|after|since|until|till)\s+{_DATE}(?![\w-])", re.I)
_DAY_FILTER = re.compile(
    rf"(?<!ended )(?<!ending )(?<!ends )\b(?:(?:on|dated)\s+)?"
    rf"(?P<m1>{_MONTH})\s+(?P<d1>{_DAY}),?\s+(?P<y1>{_YEAR})(?!\d)"
    rf"|\b(?:(?:on|dated)\s+)?(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH}),?\s+"
    rf"(?P<y2>{_YEAR})(?!\d)",
    re.I,
)
_MONTH_FILTER = re.compile(rf"\b(?:in|during)\s+(?P<m3>{_MONTH})\s+(?P<y3>{_YEAR})(?!\d)", re.I)
# "in 1987" but not "in 1987 dollars" or "in 1987-88": the year must end the phrase.
_YEAR_FILTER = re.compile(rf"\b(?:in|during)\s+(?P<y4>{_YEAR})(?=\s*(?:[?,.!;]|$))", re.I)
_RECENT = re.compile(
    r"(?<!\bthe )(?<!\bwithin )(?<!\bin )(?<!\bover )(?<!\bduring )(?<!\bfor )"
    r"\b(?P<span>last week|this week|last month|this month|recently)\b",
    re.I,
)
_RECENT_DAYS = {
    "last week": 7,
    "this week": 7,
    "last month": 31,
    "this month": 31,
    "recently": 14,
}
# "its latest move", "BA's latest results": a possessive makes "latest" part of the thing asked.
_NEWEST = re.compile(
    r"(?<!\bits )(?<!\btheir )(?<!\bhis )(?<!\bher )(?<!'s )(?<!’s )"
    r"\b(?:latest|most recent|newest|most recently|last reported)\b",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(r"^\s*(?:in\s+)?(?:when|what year|which year|what date|what day)\b", re.I)
# Dangling framing a removed date leaves behind: "According to a report, ..." stays readable.
_LEFTOVER = re.compile(r"\s+([,?.!])|^[\s,]+")


class BadDateError(NewsdeskError):
    """A date given on the command line (``--since``, ``--until``) that is not one."""


@dataclass(frozen=True)
class TimeWords:
    """What a question's time words ask for; ``text`` is the question to match with."""

    text: str
    since: date | None = None
    until: date | None = None
    newest_first: bool = False
    phrase: str | None = None  # the words read as a range, as written

    @property
    def has_range(self) -> bool:
        return self.since is not None or self.until is not None


def read_time_words(question: str, newest: date | None = None) -> TimeWords:
    """The range and order ``question`` asks for; ``newest`` is the archive's "today".

    Without ``newest`` (an index of undated articles), "last week" and a day without its year
    are not read.
    """
    newest_first = _NEWEST.search(question) is not None
    asks_when = _ASKS_WHEN.search(question) is not None
    found = _first_range(question, newest, asks_when)
    if found is None:
        return TimeWords(question, newest_first=newest_first)
    since, until, match, removable = found
    text = question
    if removable:
        text = question[: match.start()] + question[match.end() :]
        text = _LEFTOVER.sub(lambda m: m.group(1) or "", " ".join(text.split())).strip()
        text = text[:1].upper() + text[1:] if text else question
    return TimeWords(text, since, until, newest_first, match.group(0).strip())


def parse_day(text: str) -> date:
    """A date given by a person: ``1987-03-01``, ``1 March 1987`` or ``March 1, 1987``.

    Raises ``BadDateError`` with the words to fix it.
    """
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    match = _DAY_FILTER.fullmatch(value)
    day = _day_of(match, None) if match is not None else None
    if day is None:
        raise BadDateError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 1987-03-01")
    return day


def overlaps(words: TimeWords, oldest: date | None, newest: date | None) -> bool:
    """Whether any article dated ``oldest`` to ``newest`` can fall in the range."""
    if oldest is None or newest is None:
        return False
    return (words.since is None or words.since <= newest) and (
        words.until is None or words.until >= oldest
    )


def _first_range(
    question: str, newest: date | None, asks_when: bool
) -> tuple[date | None, date | None, re.Match[str], bool] | None:
    """The first time phrase of ``question`` as (since, until, its match, removable)."""
    bound = _BOUND.search(question)
    if bound is not None:
        span = _span_of(bound, newest)
        if span is not None and not (asks_when and bound["y4"]):
            first, last = span
            word = bound["word"].lower()
            if word == "before":
                return None, first - timedelta(days=1), bound, True
            if word == "after":
                return last + timedelta(days=1), None, bound, True
            if word == "since":
                return first, None, bound, True
            return None, last, bound, True
    for pattern, removable in ((_DAY_FILTER, True), (_MONTH_FILTER, True), (_YEAR_FILTER, False)):
        match = pattern.search(question)
        if match is None or (asks_when and pattern is _YEAR_FILTER):
            continue
        span = _span_of(match, newest)
        if span is not None:
            # A month inside the question is as often what is counted ("contracts traded in
            # February 1987") as when: only a leading one ("In October 2017, ...") leaves.
            removable = removable and (pattern is not _MONTH_FILTER or match.start() == 0)
            return span[0], span[1], match, removable
    recent = _RECENT.search(question)
    if recent is not None and newest is not None:
        days = _RECENT_DAYS[recent["span"].lower()]
        # Kept in the words: stories say "last week" too ("rigs working this week").
        return newest - timedelta(days=days), newest, recent, False
    return None


def _span_of(match: re.Match[str], newest: date | None) -> tuple[date, date] | None:
    """The first and last day a matched date covers: a day, a month or a year."""
    groups = match.groupdict()
    if groups.get("y4"):
        year = int(groups["y4"])
        return date(year, 1, 1), date(year, 12, 31)
    if groups.get("m3") or groups.get("m4"):
        month = _MONTH_NUMBER[(groups.get("m3") or groups["m4"]).lower().rstrip(".")]
        if groups.get("y3"):
            year = int(groups["y3"])
        elif newest is not None:
            year = newest.year if month <= newest.month else newest.year - 1
        else:
            return None
        following = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), following - timedelta(days=1)
    day = _day_of(match, newest)
    return (day, day) if day is not None else None


def _day_of(match: re.Match[str], newest: date | None) -> date | None:
    groups = match.groupdict()
    month_name, day_text, year_text = (
        (groups["m1"], groups["d1"], groups.get("y1"))
        if groups.get("m1")
        else (groups.get("m2"), groups.get("d2"), groups.get("y2"))
    )
    if not month_name or not day_text:
        return None
    month = _MONTH_NUMBER[month_name.lower().rstrip(".")]
    day = int(re.sub(r"\D", "", day_text))
    try:
        if year_text:
            return date(int(year_text), month, day)
        if newest is None:
            return None
        found = date(newest.year, month, day)
        return found if found <= newest else date(newest.year - 1, month, day)
    except ValueError:
        return None
