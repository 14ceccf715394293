"""From a question and its ranked hits to one ``Answer``: the core every front end renders.

The answer model scores every sentence of the top passages; the best one is the answer sentence
when its probability clears the model's threshold, and the short answer is marked inside it.
Below the threshold the answer says "not in these articles" and still shows the closest
passage, labelled as such. No I/O here beyond what the loaded index and model already hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from index.answering.candidates import Candidate, candidates_of, features_of
from index.answering.model import AnswerModel
from index.answering.question import FRAMING_TERMS, Question, parse_question
from index.answering.spans import short_answer
from index.answering.verifier import verifier_row
from index.search.searcher import Searcher, SearchResult
from index.storage.lexical import term_spans
from index.storage.metadata import ArticleRecord, PassageRecord

NOT_FOUND = "I couldn't find that in the articles."
NO_MORE = "No further passages."
CLOSEST_LABEL = "The closest passage, which may not answer it:"
MORE = 9  # further passages an answer holds, shown ``MORE_PAGE`` at a time
MORE_PAGE = 3


@dataclass(frozen=True)
class Source:
    title: str
    date: str | None
    paragraph: int  # 1-based, as a reader counts
    path: str
    url: str | None = None
    key: str = ""  # the article's id in the index (a JSON Lines file's line: "file.jsonl#3")

    def line(self) -> str:
        """ "Title, 2017-10-15, paragraph 5" for a reader."""
        parts = [self.title]
        if self.date:
            parts.append(self.date)
        parts.append(f"paragraph {self.paragraph}")
        return ", ".join(parts)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scored:
    """Every candidate with the model's probability, best first (benchmarks read this)."""

    candidates: list[Candidate]
    features: np.ndarray
    probabilities: np.ndarray
    order: np.ndarray


def score_candidates(question: Question, result: SearchResult, model: AnswerModel) -> Scored:
    candidates = candidates_of(result)
    features = features_of(question, result, candidates)
    probabilities = model.predict(features)
    return Scored(candidates, features, probabilities, np.argsort(-probabilities, kind="stable"))


def answer_question(
    searcher: Searcher, model: AnswerModel, text: str, k: int = 10
) -> tuple[Answer, SearchResult]:
    """Parse, search and answer ``text``: the one question path of every front end and bench."""
    from index.answering.quotes import named_speaker, statement_answer  # quotes reads Answer

    question = parse_question(text, searcher.store.metadata.entity_labels)
    result = searcher.search(question.text, k)
    answer = build_answer(question, result, model)
    answer = statement_answer(question, searcher, answer) or answer
    return named_speaker(question, answer, result, searcher.store.metadata), result


def build_answer(question: Question, result: SearchResult, model: AnswerModel) -> Answer:
    """Choose the answer sentence, mark its short answer, and decide whether to answer at all."""
    kind = question.answer_type.value
    if not result.hits:
        return Answer(question.text, False, "", None, (), "", None, 0.0, kind)
    scored = score_candidates(question, result, model)
    best = scored.candidates[int(scored.order[0])]
    record = best.sentence.record
    span = short_answer(question, record.text, record.entities, model.score_spans)
    confidence = model.confidence(
        verifier_row(scored.candidates, scored.features, scored.probabilities, span)
    )
    found = confidence >= model.threshold
    span = span if found else None
    marks = (Mark(span.start, span.end),) if span else _word_marks(question, record.text)
    return Answer(
        question=question.text,
        found=found,
        sentence=record.text,
        short_answer=span.text if span else None,
        marks=marks,
        context=best.hit.passage.text,
        source=source_of(best.hit.passage),
        confidence=round(confidence, 4),
        question_type=kind,
        more=_more(scored, best, result),
    )


def _more(scored: Scored, best: Candidate, result: SearchResult) -> tuple[MoreHit, ...]:
    """The best sentence of each other passage: the scored ones in the model's order, then
    the passages past those the model reads, in search order (their score is 0: not judged)."""
    seen = {best.hit.passage.id}
    more: list[MoreHit] = []
    ranked = [
        (scored.candidates[int(i)].hit, scored.candidates[int(i)].text, scored.probabilities[i])
        for i in scored.order
    ]
    ranked += [(hit, hit.best.record.text, 0.0) for hit in result.hits]
    for hit, sentence, probability in ranked:
        if hit.passage.id in seen:
            continue
        seen.add(hit.passage.id)
        score = round(float(probability), 4)
        more.append(MoreHit(sentence, hit.passage.text, source_of(hit.passage), score))
        if len(more) == MORE:
            break
    return tuple(more)


def source_of(passage: PassageRecord) -> Source:
    article: ArticleRecord = passage.article
    return Source(
        article.title, article.date, passage.paragraph + 1, article.path, article.url, article.key
    )


def _word_marks(question: Question, sentence: str) -> tuple[Mark, ...]:
    """With no short answer, mark the sentence's words that the question asked about."""
    wanted = set(question.terms) - FRAMING_TERMS
    return tuple(Mark(start, end) for start, end, stem in term_spans(sentence) if stem in wanted)
