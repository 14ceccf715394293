"""When a sentence's events happened: its relative dates resolved against the article's date.

A story dated Sunday 15 October 2017 that says "on Saturday" means 14 October; "yesterday" in
a Reuters story of 2 March 1987 means 1 March. News convention: a bare weekday is the most
recent one on or before the article's date (the same weekday is that day), unless the sentence
speaks of the future ("will", "is due to") or says "next". The phrases are the DATE and TIME
spans the build's entity tagger found, so nothing here guesses where a date is.

An event date is an ISO string at the precision the words give: a day ``2017-10-14``, an ISO
week ``2017-W41`` ("last week") or a month ``2017-09`` ("last month"). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_MONTH_BY_NAME = {name: number for number, name in enumerate(MONTHS, 1)} | {
    name[:3]: number for number, name in enumerate(MONTHS, 1) if name != "may"
}
_MONTH_BY_NAME["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTH_BY_NAME, key=len, reverse=True)) + r")\.?"
_PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night))?"
_DAY_WORDS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "yesterday": -1,
    "last night": -1,
    "overnight": -1,
    "tomorrow": 1,
}
_WEEKDAY = re.compile(
    r"^(?:(?P<which>last|next|this|on|early|late)\s+)?(?P<weekday>"
    + "|".join(WEEKDAYS)
    + r")(?:'s)?"
    + _PART_OF_DAY
    + "$"
)
_DAY_MONTH = re.compile(
    r"^(?:on\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?P<year>,?\s+\d{4})?$"
)
_MONTH_DAY = re.compile(
    r"^(?:on\s+)?" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?P<year>,?\s+\d{4})?$"
)
_SPAN_WORDS = re.compile(r"^(?P<which>last|this|next)\s+(?P<span>week|month)(?:'s)?$")
_MONTH_ALONE = re.compile(r"^(?:(?P<which>last|this|next|early|late|mid)[\s-]+)?" + _MONTH + "$")
# Words that put a bare weekday in the coming week: "the talks will resume on Monday".
_FUTURE = re.compile(
    r"\b(?:will|shall|won't|to be held|is due|are due|due to|scheduled|expected to|plans to"
    r"|plan to|is to|are to|next|tomorrow|upcoming|later)\b|'ll\b",
    re.IGNORECASE,
)
_DATE_LABELS = frozenset({"DATE", "TIME"})
_TITLE = re.compile(r"\bthe\s+$", re.IGNORECASE)
_CAPITAL = re.compile(r"\s+[A-Z]")


class Span(Protocol):
    """A tagged span of a sentence (``index.analysis.entities.Entity`` is one)."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def sentence_event_date(text: str, spans: Iterable[Span], article_date: str | None) -> str | None:
    """The event date of one sentence: its first DATE or TIME span that resolves, else None.

    A day beats a week or a month anywhere in the sentence ("last week ... on Tuesday" is
    Tuesday). Undated articles have no event dates.
    """
    found = resolved_phrase(text, spans, article_date)
    return found[1] if found is not None else None


def resolved_phrase(
    text: str, spans: Iterable[Span], article_date: str | None
) -> tuple[str, str] | None:
    """The phrase ``sentence_event_date`` read, with its event date, or None."""
    anchor = _iso_day(article_date)
    if anchor is None:
        return None
    coarse: tuple[str, str] | None = None
    for span in sorted(spans, key=lambda s: s.start):
        if span.label not in _DATE_LABELS:
            continue
        phrase = text[span.start : span.end]
        if _TITLE.search(text[: span.start]) and _CAPITAL.match(text, span.end):
            continue  # "The Sunday Express", "the Sunday Times": a newspaper, not a day
        future = _FUTURE.search(text, 0, span.start) is not None
        found = resolve_phrase(phrase, anchor, future=future)
        if found is None:
            continue
        if len(found) == 10:
            return phrase, found
        coarse = coarse or (phrase, found)
    return coarse


def resolve_phrase(phrase: str, article: date, *, future: bool = False) -> str | None:
    """One date phrase ("Saturday", "last week", "14 October") as an event date, or None.

    ``future``: the sentence speaks of what is to come, so a bare weekday is the next one.
    Phrases that name no point in time ("the last week", "annual", "1986") give None.
    """
    words = " ".join(phrase.lower().replace("’", "'").split()).strip(" ,.")
    words = words.removesuffix("'s")  # "last night's talks", "Friday's meeting"
    if words.startswith("the "):
        return None  # "the last week", "the week": a stretch of time, not an event's date
    if words in _DAY_WORDS:
        return (article + timedelta(days=_DAY_WORDS[words])).isoformat()
    for stem, shift in _DAY_WORDS.items() if re.fullmatch(r"[a-z ,]+", words) else ():
        if words[len(stem) : len(stem) + 1] in (" ", ",") and words.startswith(stem):
            return (article + timedelta(days=shift)).isoformat()  # "yesterday, late in the..."
    weekday = _WEEKDAY.match(words)
    if weekday is not None:
        return _weekday(article, WEEKDAYS.index(weekday["weekday"]), weekday["which"], future)
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        match = pattern.match(words)
        if match is not None:
            return _day_of_month(article, match)
    span = _SPAN_WORDS.match(words)
    if span is not None:
        return _week_or_month(article, span["span"], span["which"])
    month = _MONTH_ALONE.match(words)
    if month is not None:
        which = "next" if future and month["which"] is None else month["which"]
        return _month(article, _MONTH_BY_NAME[month["month"]], which)
    return None


def event_range(value: str) -> tuple[date, date]:
    """The first and last day an event date covers (a day, an ISO week, or a month)."""
    if "W" in value:
        year, week = value.split("-W")
        first = date.fromisocalendar(int(year), int(week), 1)
        return first, first + timedelta(days=6)
    if len(value) == 7:
        first = date.fromisoformat(value + "-01")
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    day = date.fromisoformat(value)
    return day, day


def describe_event_date(value: str) -> str:
    """An event date for a reader: "2017-10-14", "the week of 2017-10-09", "2017-09"."""
    if "W" in value:
        return f"the week of {event_range(value)[0].isoformat()}"
    return value


def _iso_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _weekday(article: date, weekday: int, which: str | None, future: bool) -> str:
    back = (article.weekday() - weekday) % 7
    if which == "last":
        back = back or 7  # "last Sunday" in a Sunday story is a week ago
    elif which == "next" or (future and which != "this" and back):
        return (article + timedelta(days=(weekday - article.weekday()) % 7 or 7)).isoformat()
    return (article - timedelta(days=back)).isoformat()


def _day_of_month(article: date, match: re.Match[str]) -> str | None:
    month, day = _MONTH_BY_NAME[match["month"]], int(match["day"])
    year = int(match["year"].strip(" ,")) if match["year"] else article.year
    try:
        found = date(year, month, day)
        if not match["year"] and found > article + timedelta(days=183):
            found = date(year - 1, month, day)  # "on 28 December" in a January story
    except ValueError:
        return None
    return found.isoformat()


def _week_or_month(article: date, span: str, which: str) -> str:
    shift = {"last": -1, "this": 0, "next": 1}[which]
    if span == "week":
        year, week, _ = (article + timedelta(weeks=shift)).isocalendar()
        return f"{year}-W{week:02d}"
    month_index = article.year * 12 + article.month - 1 + shift
    return f"{month_index // 12}-{month_index % 12 + 1:02d}"


def _month(article: date, month: int, which: str | None) -> str:
    """A month named without its year: the latest one up to the article's own, or the next
    month when the story is written in the last days before it ("mid March" in a story of
    26 February is that March, not the one a year before)."""
    year = article.year if month <= article.month else article.year - 1
    if which != "last" and (month - article.month) % 12 == 1:
        year = article.year + (month == 1)
    if which == "last" and month == article.month:
        year -= 1  # "last March" in a March story
    elif which == "next":
        year = article.year if month >= article.month else article.year + 1
    return f"{year}-{month:02d}"
