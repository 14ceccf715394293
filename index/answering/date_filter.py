"""Keep a search result to a date range, and put the newest good answer first.

A passage is in range when its article's date is, or when one of its sentences' event dates
overlaps it (a story of 2 March about what happened on 27 February is "on February 27").
Articles with no date cannot be placed: a range the user gave explicitly (``--since``) leaves
them out; one read from the question's words keeps them, so that a question about an undated
archive is never left with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.answering.time_words import overlaps, read_time_words
from index.corpus.event_dates import event_range
from index.search.searcher import Hit, SearchResult

# With a range, the search ranks this many passages before the range is applied, so that
# ``k`` in-range ones remain (the candidate pool is 64 sentences and 32 BM25 passages).
FILTERED_SEARCH_K = 96
# "latest": the newest article among the candidates the model rates at least this share of
# its best one (a newer story that does not answer must not win on its date alone).
NEWEST_SHARE = 0.5


@dataclass(frozen=True)
class DateRange:
    """Inclusive bounds (either may be open); ``explicit``: given by the user, not read."""

    since: date | None = None
    until: date | None = None
    explicit: bool = False

    def words(self) -> str:
        """The range for a reader: "1987-03-02", "1987-03-01 to 1987-03-31", "up to ..."."""
        if self.since is not None and self.until is not None:
            if self.since == self.until:
                return self.since.isoformat()
            return f"{self.since.isoformat()} to {self.until.isoformat()}"
        if self.since is not None:
            return f"{self.since.isoformat()} onwards"
        return f"up to {self.until.isoformat()}" if self.until is not None else "any date"

    def holds(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def overlaps(self, first: date, last: date) -> bool:
        return (self.since is None or last >= self.since) and (
            self.until is None or first <= self.until
        )


def within(result: SearchResult, dates: DateRange, k: int) -> SearchResult:
    """``result`` with only the hits in ``dates``, at most ``k``, in their order."""
    kept = [hit for hit in result.hits if _in_range(hit, dates)][:k]
    return replace(result, hits=kept)


def newest_first(
    order: np.ndarray, probabilities: np.ndarray, dates: list[str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """``order`` (best first) and ``probabilities`` with the newest good candidate on top.

    ``dates[i]`` is candidate ``i``'s article date (ISO, or None: never preferred). The chosen
    one swaps probabilities with the best, so that whatever reads "the best" (the verifier,
    the order of "More") reads it.
    """
    if len(order) == 0:
        return order, probabilities
    best = int(order[0])
    floor = float(probabilities[best]) * NEWEST_SHARE
    good = [int(i) for i in order if probabilities[i] >= floor and dates[int(i)]]
    if not good:
        return order, probabilities
    newest = max(good, key=lambda i: str(dates[i]))  # max keeps the first: the best of the day
    if newest == best:
        return order, probabilities
    swapped = probabilities.copy()
    swapped[best], swapped[newest] = probabilities[newest], probabilities[best]
    return np.argsort(-swapped, kind="stable"), swapped


@dataclass(frozen=True)
class DatePlan:
    """What a question's time words (and the user's ``--since``/``--until``) ask of a search."""

    text: str  # the question to match with
    dates: DateRange | None
    newest_first: bool

    def search_k(self, k: int) -> int:
        return max(k, FILTERED_SEARCH_K) if self.dates is not None else k


def plan_dates(
    text: str,
    span: tuple[str | None, str | None],
    since: date | None = None,
    until: date | None = None,
) -> DatePlan:
    """Read ``text``'s time words against the index's ``span`` (oldest, newest article date).

    An explicit ``since``/``until`` wins over the question's words (which then still leave
    the matched text, and may still ask for the newest first). A range read from the words
    that no article of the index could fall in is taken as the question's subject instead.
    """
    oldest, newest = _day(span[0]), _day(span[1])
    words = read_time_words(text, newest)
    if since is not None or until is not None:
        return DatePlan(words.text, DateRange(since, until, explicit=True), words.newest_first)
    if not words.has_range or not overlaps(words, oldest, newest):
        return DatePlan(text, None, words.newest_first)
    return DatePlan(words.text, DateRange(words.since, words.until), words.newest_first)


def _in_range(hit: Hit, dates: DateRange) -> bool:
    written = _day(hit.passage.article.date)
    if written is not None and dates.holds(written):
        return True
    for scored in hit.sentences:
        if scored.record.event_date and dates.overlaps(*event_range(scored.record.event_date)):
            return True
    return written is None and not dates.explicit


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
