"""Candidate answer sentences: every sentence of the top passages, with where it came from.

The features the answer model reads for each are in ``features``; here are the candidates
themselves, the spans of the wanted kind each holds, and the sentences around each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from index.analysis.entities import Entity
from index.answering.question import AnswerType, Question
from index.search.searcher import Hit, ScoredSentence, SearchResult
from index.storage.lexical import terms_of

PASSAGES = 5  # candidates come from this many top passages
NUMERIC_TYPES = frozenset(
    {AnswerType.NUMBER, AnswerType.MONEY, AnswerType.PERCENT, AnswerType.DURATION}
)
# A count, sum or span of time has a number in it: "77 days" answers "how many days", "Sunday"
# does not, though both are DATE to the tagger.
_HAS_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty"
    r"|forty|fifty|hundred|thousand|million|billion|dozen|half|quarter|several|few)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """One sentence that may answer the question, with where it came from."""

    hit: Hit
    sentence: ScoredSentence
    passage_rank: int

    @property
    def text(self) -> str:
        return self.sentence.record.text


def candidates_of(result: SearchResult, passages: int = PASSAGES) -> list[Candidate]:
    return [
        Candidate(hit, sentence, rank)
        for rank, hit in enumerate(result.hits[:passages])
        for sentence in hit.sentences
    ]


def wanted_entities(
    question: Question, sentence: str, entities: tuple[Entity, ...]
) -> list[tuple[Entity, bool]]:
    """Entities of ``sentence`` of the wanted kind that the question does not already name.

    Each comes with whether its label is a full match for the type (else a partial one).
    """
    full, partial = question.labels, question.partial_labels
    asked = set(question.terms)
    names = [name.lower() for name in question.entities]
    found = []
    for entity in entities:
        if entity.label not in full and entity.label not in partial:
            continue
        text = entity.text_in(sentence)
        own = terms_of(text)
        if own and all(term in asked for term in own):
            continue  # only repeats the question
        if any(text.lower() in name or name in text.lower() for name in names):
            continue
        if question.answer_type in NUMERIC_TYPES and not _HAS_NUMBER.search(text):
            continue
        found.append((entity, entity.label in full))
    return found


def neighbours(
    candidate: Candidate, around: Mapping[int, ScoredSentence], ids: tuple[int, ...]
) -> list[ScoredSentence]:
    """The sentences of ``ids`` in the candidate's article, from its passage or just around it
    (a news paragraph is often a single sentence, so its neighbours are in the next one)."""
    by_id = {s.record.id: s for s in candidate.hit.sentences}
    return [found for i in ids if (found := by_id.get(i) or around.get(i)) is not None]


def window(candidate: Candidate, around: Mapping[int, ScoredSentence]) -> list[ScoredSentence]:
    """The sentence with its neighbours: an answer's subject is often one back."""
    own = candidate.sentence.record.id
    return neighbours(candidate, around, (own - 1, own, own + 1))
