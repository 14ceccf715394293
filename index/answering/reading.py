"""The reader's turn: re-order the ranker's best candidates and take the short answer it reads.

The ranker (trees over hand-made features) orders every candidate cheaply; the reader reads the
first ``Reader.candidates`` of them beside the question and the combiner turns both scores into
one calibrated probability. Those candidates come first in that order; the rest keep the
ranker's order after them. The reader's span becomes the short answer when it is of the kind
the question asks for (a person for "who", a number for "how many") and is not just the
question's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.answering.candidates import NUMERIC_TYPES, Candidate
from index.answering.question import AnswerType, Question
from index.answering.reader import Reader, Reading
from index.answering.spans import HEDGE, Span
from index.search.searcher import SearchResult
from index.storage.lexical import terms_of
from index.storage.metadata import SentenceRecord

# A count, sum, share or span of time has a number in it (digits or words).
_HAS_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty"
    r"|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion"
    r"|dozen|half|quarter|several|few)\b",
    re.IGNORECASE,
)
# Types whose answer is a name the tagger labels; numbers and dates are checked by their words.
_NAMED = frozenset({AnswerType.PERSON, AnswerType.ORGANISATION, AnswerType.PLACE})


@dataclass(frozen=True)
class ReadOrder:
    """The candidates' final order and probabilities, and the reader's reading of each read one."""

    order: np.ndarray
    probabilities: np.ndarray
    readings: dict[int, Reading]  # candidate index -> its reading


def sentence_before(candidate: Candidate, result: SearchResult) -> str:
    """The sentence before ``candidate`` in its article, if the search brought it back."""
    wanted = candidate.sentence.record.id - 1
    for sentence in candidate.hit.sentences:
        if sentence.record.id == wanted:
            return sentence.record.text
    found = result.around.get(wanted)
    if found is not None and found.record.article.key == candidate.hit.passage.article.key:
        return found.record.text
    return ""


def read_candidates(
    reader: Reader,
    question: Question,
    result: SearchResult,
    candidates: list[Candidate],
    order: np.ndarray,
    probabilities: np.ndarray,
) -> ReadOrder:
    """Read the ranker's best candidates; returns the combined order and probabilities."""
    chosen = [int(i) for i in order[: reader.candidates]]
    pairs = [
        (
            candidates[i].text,
            sentence_before(candidates[i], result),
            candidates[i].hit.passage.article.title,
        )
        for i in chosen
    ]
    readings = reader.read(question.text, pairs)
    combined = probabilities.copy()
    combined[chosen] = reader.combiner.probabilities(
        readings, [float(probabilities[i]) for i in chosen]
    )
    read_first = sorted(chosen, key=lambda i: -combined[i])
    rest = [int(i) for i in order[reader.candidates :]]
    # Unread candidates stay below every read one: they were not judged by the reader.
    ceiling = min((combined[i] for i in chosen), default=1.0)
    for i in rest:
        combined[i] = min(combined[i], ceiling)
    return ReadOrder(
        np.asarray(read_first + rest, dtype=np.int64),
        combined,
        dict(zip(chosen, readings, strict=True)),
    )


def reader_span(question: Question, record: SentenceRecord, reading: Reading) -> Span | None:
    """The reader's short answer in ``record``, if it is of the kind asked and not the question."""
    if reading.span is None:
        return None
    sentence = record.text
    text = sentence[reading.span[0] : reading.span[1]].strip(" ,;:")
    if not text:
        return None
    start = sentence.index(text, reading.span[0])
    end = start + len(text)
    own = terms_of(text)
    if not own or all(term in set(question.terms) for term in own):
        return None  # only the question's own words: nothing read
    kind = question.answer_type
    if kind in NUMERIC_TYPES and not _HAS_NUMBER.search(text):
        return None
    if kind is AnswerType.DATE and not (
        _HAS_NUMBER.search(text) or _tagged(record, start, end, question.labels)
    ):
        return None
    # A name of the kind asked, fully: "Kurdish" (a nationality) is no answer to "which
    # militia"; the typed-span rules, which know untagged acronyms ("YPG"), then stand in.
    if kind in _NAMED and not _tagged(record, start, end, question.labels):
        return None
    if kind in NUMERIC_TYPES or kind is AnswerType.DATE:
        hedge = HEDGE.search(sentence, 0, start)  # "around 1,500", "more than 15 days"
        if hedge is not None:
            start = hedge.start()
    return Span(start, end, sentence[start:end])


def _tagged(record: SentenceRecord, start: int, end: int, labels: frozenset[str]) -> bool:
    """Whether a tagged entity of one of ``labels`` overlaps the span."""
    return any(
        entity.label in labels and entity.start < end and entity.end > start
        for entity in record.entities
    )
