"""Keep a search result to a date range, and put the newest good answer first.

An article is in range when its date is, or when one of its sentences' event dates overlaps
it (a story of 2 March about what happened on 27 February is "on February 27").
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
# ``k`` in-range ones remain (measured on the date questions: 40 finds what 96 did, faster).
FILTERED_SEARCH_K = 40
# "latest": the newest article among the passages that score at least this share of the best
# one in the search (the stories on the subject; chosen on the date questions' "latest" kind).
NEWEST_SHARE = 0.65


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
    """``result`` with only the hits of articles in ``dates``, at most ``k``, in their order.

    An article is in when its date is, or when a sentence of it among the hits has an event
    date in the range: the story of 2 March on February's trading is in for "in February",
    with all its passages (the figures are seldom in the sentence that says "last month").
    """
    told = {
        hit.passage.article.key
        for hit in result.hits
        for scored in hit.sentences
        if scored.record.event_date and dates.overlaps(*event_range(scored.record.event_date))
    }
    kept = [hit for hit in result.hits if hit.passage.article.key in told or _dated_in(hit, dates)]
    return replace(result, hits=kept[:k])


def newest_hits(result: SearchResult, k: int) -> SearchResult:
    """``result`` with the passages of the newest article close to the top hit first.

    "Close" is a search score of at least ``NEWEST_SHARE`` of the best: the stories on the
    question's subject, of which "latest" asks for the newest. Undated articles are never the
    newest. At most ``k`` hits are kept.
    """
    if not result.hits:
        return result
    floor = result.hits[0].score * NEWEST_SHARE
    close = [hit for hit in result.hits if hit.score >= floor and _day(hit.passage.article.date)]
    if not close:
        return replace(result, hits=result.hits[:k])
    newest = max(close, key=lambda hit: str(hit.passage.article.date)).passage.article.key
    first = [hit for hit in result.hits if hit.passage.article.key == newest]
    rest = [hit for hit in result.hits if hit.passage.article.key != newest]
    return replace(result, hits=(first + rest)[:k])


def prefer_article(
    order: np.ndarray, probabilities: np.ndarray, articles: list[str], wanted: str
) -> tuple[np.ndarray, np.ndarray]:
    """``order`` (best first) and ``probabilities`` with ``wanted``'s best candidate on top.

    ``articles[i]`` is candidate ``i``'s article key. The chosen one swaps probabilities with
    the best, so that whatever reads "the best" (the verifier, the order of "More") reads it.
    """
    chosen = next((int(i) for i in order if articles[int(i)] == wanted), None)
    if chosen is None or chosen == int(order[0]):
        return order, probabilities
    best = int(order[0])
    swapped = probabilities.copy()
    swapped[best], swapped[chosen] = probabilities[chosen], probabilities[best]
    return np.argsort(-swapped, kind="stable"), swapped


@dataclass(frozen=True)
class DatePlan:
    """What a question's time words (and the user's ``--since``/``--until``) ask of a search."""

    text: str  # the question to match with
    dates: DateRange | None
    newest_first: bool

    def search_k(self, k: int) -> int:
        wider = self.dates is not None or self.newest_first
        return max(k, FILTERED_SEARCH_K) if wider else k

    def apply(self, result: SearchResult, k: int) -> SearchResult:
        """The search result kept to the range, the newest story first if asked, ``k`` hits."""
        if self.dates is not None:
            result = within(result, self.dates, k if not self.newest_first else len(result.hits))
        return newest_hits(result, k) if self.newest_first else result


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


def _dated_in(hit: Hit, dates: DateRange) -> bool:
    written = _day(hit.passage.article.date)
    if written is None:
        return not dates.explicit
    return dates.holds(written)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
