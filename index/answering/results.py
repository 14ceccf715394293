"""The answer as every front end receives it: ``Answer``, its ``Source``, ``Mark``s and
further passages (``MoreHit``), and the words and page sizes the front ends show with it.

These are the shared nouns of answering: ``answer`` builds an ``Answer``, ``quotes`` rewrites
one from the stored statements, and the front ends render it; none of them imports another for
these types. Only the corpus's date words are imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from index.answering.language import NOT_ENGLISH, REFUSAL
from index.corpus.event_dates import describe_event_date

NOT_FOUND = "I couldn't find that in the articles."
NO_MORE = "No further passages."
CLOSEST_LABEL = "The closest passage, which may not answer it:"
ALSO_IN = "also in"  # before the other articles that tell the same sentence
MORE = 9  # further passages an answer holds, shown ``MORE_PAGE`` at a time
MORE_PAGE = 3
REFUSALS = {REFUSAL: NOT_ENGLISH}  # why a question was not even searched for, in words


@dataclass(frozen=True)
class Source:
    title: str
    date: str | None
    paragraph: int  # 1-based, as a reader counts
    path: str
    url: str | None = None
    key: str = ""  # the article's id in the index (a JSON Lines file's line: "file.jsonl#3")
    event_date: str | None = None  # when the sentence's events happened, if it says

    def line(self) -> str:
        """ "Title, 2017-10-15, events of 2017-10-14, paragraph 5" for a reader."""
        parts = [self.title]
        if self.date:
            parts.append(self.date)
        when = self.events()
        if when:
            parts.append(f"events of {when}")
        parts.append(f"paragraph {self.paragraph}")
        return ", ".join(parts)

    def short(self) -> str:
        """ "Title (2017-10-15)": how an "also in" list names an article."""
        return f"{self.title} ({self.date})" if self.date else self.title

    def events(self) -> str | None:
        """The event date in words when it is not simply the article's date, else None."""
        if not self.event_date or self.event_date == self.date:
            return None
        return describe_event_date(self.event_date)


@dataclass(frozen=True)
class Mark:
    """A marked span of the answer sentence (the short answer, or the matching words)."""

    start: int
    end: int


@dataclass(frozen=True)
class MoreHit:
    sentence: str
    context: str
    source: Source
    score: float
    also_in: tuple[Source, ...] = ()  # other articles telling the same sentence


@dataclass(frozen=True)
class Answer:
    """What any front end shows: the sentence first, its marks, then where it comes from."""

    question: str
    found: bool
    sentence: str
    short_answer: str | None
    marks: tuple[Mark, ...]
    context: str
    source: Source | None
    confidence: float  # the verifier's P(the sentence is the answer)
    question_type: str
    more: tuple[MoreHit, ...] = field(default_factory=tuple)
    also_in: tuple[Source, ...] = ()  # other articles telling the answer sentence
    refusal: str | None = None  # set when the question was not searched for: a REFUSALS key
    dates: str | None = None  # the date range the candidates were kept to, in words

    def not_found_line(self) -> str:
        """What to say when nothing at all came back: an empty index, or an empty range."""
        if self.dates:
            return f"{NOT_FOUND[:-1]} dated {self.dates}."
        return NOT_FOUND + " (the index is empty)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def refusal_text(self) -> str | None:
        """What every front end says instead of an answer, for a refused question."""
        return REFUSALS.get(self.refusal, self.refusal) if self.refusal else None


def refused_answer(text: str, refusal: str) -> Answer:
    """The answer to a question that is not searched for (``refusal``: a ``REFUSALS`` key)."""
    return Answer(text, False, "", None, (), "", None, 0.0, "other", refusal=refusal)
