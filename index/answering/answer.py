"""From a question and its ranked hits to one ``Answer``: the core every front end renders.

The answer model scores every sentence of the top passages; the best one is the answer sentence
when its probability clears the model's threshold, and the short answer is marked inside it.
Below the threshold the answer says "not in these articles" and still shows the closest
passage, labelled as such. No I/O here beyond what the loaded index and model already hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from index.answering.candidates import Candidate, candidates_of
from index.answering.date_filter import plan_dates, prefer_article
from index.answering.duplicates import same_statement
from index.answering.features import features_of
from index.answering.model import AnswerModel
from index.answering.question import AnswerType, Question, parse_question
from index.answering.quotes import named_speaker, statement_answer
from index.answering.reading import read_candidates, reader_span
from index.answering.results import MORE, Answer, Mark, MoreHit, Source
from index.answering.spans import Span, short_answer
from index.answering.verifier import verifier_row
from index.search.searcher import Hit, Searcher, SearchResult
from index.storage.metadata import ArticleRecord, PassageRecord

# The kinds whose short answer the typed-span rules find before the reader's span.
_RULES_FIRST = frozenset({AnswerType.STATEMENT, AnswerType.DESCRIPTION})


@dataclass(frozen=True)
class Scored:
    """Every candidate with its features and the ranker's probability, best first."""

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
    searcher: Searcher,
    model: AnswerModel,
    text: str,
    k: int = 10,
    *,
    since: date | None = None,
    until: date | None = None,
) -> tuple[Answer, SearchResult]:
    """Parse, search and answer ``text``: the one question path of every front end and bench.

    The question's time words ("in October 2017", "latest"), or ``since``/``until`` (both
    inclusive), keep the candidates to a date range or prefer the newest (``date_filter``).
    "What did X say" and "who said" questions are then read against the stored statements.
    """
    plan = plan_dates(text, searcher.store.metadata.date_span(), since, until)
    question = parse_question(plan.text, searcher.store.metadata.entity_labels)
    result = searcher.search(question.text, plan.search_k(k))
    result = plan.apply(result, k)
    answer = build_answer(question, result, model, newest=plan.newest_first)
    answer = statement_answer(question, searcher, answer) or answer
    answer = named_speaker(question, answer, result, searcher.store.metadata)
    return replace(answer, dates=plan.dates.words() if plan.dates else None), result


def build_answer(
    question: Question, result: SearchResult, model: AnswerModel, *, newest: bool = False
) -> Answer:
    """Choose the answer sentence, mark its short answer, and decide whether to answer at all.

    ``newest``: the best candidate of the first hit's article is the answer ("latest": the
    hits come newest story first, see ``date_filter.newest_hits``).
    """
    kind = question.answer_type.value
    if not result.hits:
        return Answer(question.text, False, "", None, (), "", None, 0.0, kind)
    scored = score_candidates(question, result, model)
    if model.reader is not None:
        return _read_answer(question, result, model, scored, newest=newest)
    if newest:
        scored = _newest_first(scored, result)
    best = scored.candidates[int(scored.order[0])]
    record = best.sentence.record
    span = short_answer(question, record.text, record.entities, model.score_spans)
    confidence = model.confidence(
        verifier_row(scored.candidates, scored.features, scored.probabilities, span)
    )
    found = confidence >= model.threshold
    span = span if found else None
    return _answer(question, result, scored, best, span, found, confidence)


def _read_answer(
    question: Question, result: SearchResult, model: AnswerModel, scored: Scored, *, newest: bool
) -> Answer:
    """The reader re-orders the ranker's best candidates; its probability decides; its span
    is the short answer (the typed-span rules stand in when it reads none of the kind asked)."""
    assert model.reader is not None
    read = read_candidates(
        model.reader, question, result, scored.candidates, scored.order, scored.probabilities
    )
    scored = replace(scored, order=read.order, probabilities=read.probabilities)
    if newest:
        scored = _newest_first(scored, result)
    index = int(scored.order[0])
    best = scored.candidates[index]
    record = best.sentence.record
    confidence = float(scored.probabilities[index])
    found = confidence >= model.answer_threshold
    reading = read.readings.get(index)
    # "What did X say" and "who is X" want the whole words said or the whole role: the rules
    # that find those come first there, the reader's span everywhere else.
    rules_first = question.answer_type in _RULES_FIRST
    span = (
        short_answer(question, record.text, record.entities, model.score_spans)
        if rules_first
        else None
    )
    if span is None and reading is not None:
        span = reader_span(question, record, reading)
    if span is None and not rules_first:
        span = short_answer(question, record.text, record.entities, model.score_spans)
    return _answer(question, result, scored, best, span if found else None, found, confidence)


def _newest_first(scored: Scored, result: SearchResult) -> Scored:
    """The first hit's article's best candidate first ("latest"; undated stories have none)."""
    if not result.hits[0].passage.article.date:
        return scored
    keys = [candidate.hit.passage.article.key for candidate in scored.candidates]
    wanted = result.hits[0].passage.article.key
    order, probabilities = prefer_article(scored.order, scored.probabilities, keys, wanted)
    return replace(scored, order=order, probabilities=probabilities)


def _answer(
    question: Question,
    result: SearchResult,
    scored: Scored,
    best: Candidate,
    span: Span | None,
    found: bool,
    confidence: float,
) -> Answer:
    """The answer around the chosen candidate; nothing is marked without a short answer."""
    record = best.sentence.record
    marks = (Mark(span.start, span.end),) if span else ()
    source = source_of(best.hit.passage, record.event_date)
    more, also_in = _more(scored, best, source, result)
    return Answer(
        question=question.text,
        found=found,
        sentence=record.text,
        short_answer=span.text if span else None,
        marks=marks,
        context=best.hit.passage.text,
        source=source,
        confidence=round(confidence, 4),
        question_type=question.answer_type.value,
        more=more,
        also_in=also_in,
    )


def _more(
    scored: Scored, best: Candidate, source: Source, result: SearchResult
) -> tuple[tuple[MoreHit, ...], tuple[Source, ...]]:
    """The best sentence of each other passage, and the articles that repeat the answer.

    The scored passages come in the model's order, then those past what the model reads, in
    search order (their score is 0: not judged). A passage whose sentence tells the answer
    sentence again, or one already listed, is not listed twice: its article joins that
    sentence's "also in".
    """
    seen = {best.hit.passage.id}
    answer_also = _AlsoIn(source)
    listed: list[tuple[Hit, str, float, _AlsoIn]] = []
    ranked = [
        (scored.candidates[int(i)].hit, scored.candidates[int(i)].text, scored.probabilities[i])
        for i in scored.order
    ]
    ranked += [(hit, hit.best.record.text, 0.0) for hit in result.hits]
    event_dates = {s.record.text: s.record.event_date for hit in result.hits for s in hit.sentences}
    for hit, sentence, probability in ranked:
        if hit.passage.id in seen:
            continue
        seen.add(hit.passage.id)
        shown = source_of(hit.passage, event_dates.get(sentence))
        if same_statement(sentence, best.text):
            answer_also.add(shown)
            continue
        twin = next((also for _, text, _, also in listed if same_statement(sentence, text)), None)
        if twin is not None:
            twin.add(shown)
        elif len(listed) < MORE:
            listed.append((hit, sentence, float(probability), _AlsoIn(shown)))
    more = tuple(
        MoreHit(sentence, hit.passage.text, also.source, round(score, 4), tuple(also.others))
        for hit, sentence, score, also in listed
    )
    return more, tuple(answer_also.others)


@dataclass
class _AlsoIn:
    """A listed sentence's source and the other articles that tell it, each article once."""

    source: Source
    others: list[Source] = field(default_factory=list)

    def add(self, other: Source) -> None:
        keys = {self.source.key, *(known.key for known in self.others)}
        if other.key not in keys:
            self.others.append(other)


def source_of(passage: PassageRecord, event_date: str | None = None) -> Source:
    """Where ``passage`` comes from; ``event_date``: that of the sentence shown from it."""
    article: ArticleRecord = passage.article
    return Source(
        article.title,
        article.date,
        passage.paragraph + 1,
        article.path,
        article.url,
        article.key,
        event_date,
    )
