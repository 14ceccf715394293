"""The features the answer model reads for each candidate sentence: does it answer the question?

How close it is to the question (dense similarity, idf-weighted word coverage, the question's
own names), whether it holds a span of the wanted kind that the question does not already name,
how near that span is to the question's words, and where it sits in its passage and its
article. Question-level features (the best coverage of any candidate, words the index never
saw) let the same model decline a question the articles do not answer.

Each part below reads one thing: the sentence, its window (the sentences either side), its
passage, the question's names, the words said (statements), or how the candidate stands among
the others; ``features_of`` lays their values out in ``FEATURES`` order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from index.analysis.entities import Entity
from index.answering.candidates import Candidate, neighbours, wanted_entities, window
from index.answering.question import AnswerType, Question
from index.answering.question_words import QuestionWords, Spans, Stems
from index.search.searcher import ScoredSentence, SearchResult
from index.storage.lexical import terms_of

_REPORTING = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|warned|claimed|insisted|argued|announced|stated"
    r"|explained|according to|believes|thinks|described|called|urged|admitted|predicted)\b",
    re.IGNORECASE,
)
_QUOTE = re.compile(r"[\"“”]")
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_TYPES = list(AnswerType)

FEATURES: tuple[str, ...] = (
    "similarity",
    "similarity_gap",
    "similarity_rank",
    "passage_rank",
    "passage_gap",
    "bm25_share",
    "coverage",
    "coverage_gap",
    "coverage_passage",
    "coverage_window",
    "coverage_title",
    "names_sentence",
    "names_passage",
    "unknown_share",
    "typed",
    "typed_partial",
    "typed_any_candidate",
    "typed_distance",
    "reporting",
    "quote",
    "speaker_named",
    "length",
    "position_in_passage",
    "paragraph",
    "question_terms",
    "question_names",
    "top_similarity",
    "max_coverage",
    "same_article_as_top",
    "similarity_gap_article",
    "coverage_gap_article",
    "coverage_specific",
    "bigrams",
    "rarest_matched",
    "matched_terms",
    "similarity_window",
    "similarity_passage_mean",
    "counted_noun",
    "question_numbers",
    "typed_context",
    "typed_context_gap",
    "coverage_predicate",
    "predicate_window",
    "names_window",
    "speaker_before",
    *(f"type_{kind.value}" for kind in _TYPES),
)
Values = dict[str, float]


@dataclass(frozen=True)
class _Read:
    """What a first look at one candidate found, which the others' features compare."""

    words: set[str]  # the sentence's terms, split once
    window: list[ScoredSentence]  # the sentence and its neighbours
    window_words: set[str]
    coverage: float
    typed: list[tuple[Entity, bool]]  # wanted spans the question does not name
    context: float  # the best coverage next to one of them


def features_of(
    question: Question, result: SearchResult, candidates: list[Candidate]
) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (float32)."""
    stems = Stems()
    asked = QuestionWords(question, result, stems)
    reads = [_first_read(question, asked, stems, c, result.around) for c in candidates]
    standing = _Standing(result, candidates, reads)
    about_question = _question_features(question, asked)
    numbers = set(_DIGITS.findall(question.text))
    rows = []
    for index, (candidate, read) in enumerate(zip(candidates, reads, strict=True)):
        hit = candidate.hit
        title = stems.present(hit.passage.article.title)
        passage_words = stems.union([s.record.text for s in hit.sentences]) | title
        values = {
            **standing.features(index, candidate, read),
            **about_question,
            **_sentence_features(question, asked, stems, candidate, read, numbers),
            **_window_features(asked, candidate, read),
            **_passage_features(asked, candidate, passage_words, title),
            **_name_features(asked, read, passage_words, title),
            **_statement_features(question, stems, candidate, read, result.around),
        }
        rows.append([values[name] for name in FEATURES])
    return np.asarray(rows, dtype=np.float32).reshape(len(candidates), len(FEATURES))


def _first_read(
    question: Question,
    asked: QuestionWords,
    stems: Stems,
    candidate: Candidate,
    around: Mapping[int, ScoredSentence],
) -> _Read:
    record = candidate.sentence.record
    near = window(candidate, around)
    window_words = stems.union([s.record.text for s in near])
    typed = wanted_entities(question, record.text, record.entities)
    words = stems.present(record.text)
    return _Read(
        words,
        near,
        window_words,
        asked.coverage(words),
        typed,
        asked.typed_context(record.text, typed),
    )


class _Standing:
    """How a candidate stands among all of them: against the best one, its article's best."""

    def __init__(
        self, result: SearchResult, candidates: list[Candidate], reads: list[_Read]
    ) -> None:
        self.top = result.hits[0]
        similarities = np.array([c.sentence.similarity for c in candidates])
        order = np.argsort(-similarities, kind="stable")
        self.similarity_rank = np.empty(len(candidates))
        self.similarity_rank[order] = np.arange(len(candidates))
        self.best_similarity = float(similarities.max()) if len(candidates) else 0.0
        self.max_coverage = max((read.coverage for read in reads), default=0.0)
        self.max_context = max((read.context for read in reads), default=0.0)
        self.typed_any = float(any(read.typed for read in reads))
        self.best_in_article: dict[str, tuple[float, float]] = {}
        for candidate, read in zip(candidates, reads, strict=True):
            key = candidate.hit.passage.article.key
            sim, cov = self.best_in_article.get(key, (-1.0, 0.0))
            self.best_in_article[key] = (
                max(sim, candidate.sentence.similarity),
                max(cov, read.coverage),
            )

    def features(self, index: int, candidate: Candidate, read: _Read) -> Values:
        similarity = candidate.sentence.similarity
        article = candidate.hit.passage.article.key
        best_similarity, best_coverage = self.best_in_article[article]
        return {
            "similarity": similarity,
            "similarity_gap": similarity - self.best_similarity,
            "similarity_rank": float(self.similarity_rank[index]),
            "passage_rank": float(candidate.passage_rank),
            "passage_gap": candidate.hit.score - self.top.score,
            "bm25_share": candidate.hit.bm25_share,
            "coverage_gap": read.coverage - self.max_coverage,
            "typed_any_candidate": self.typed_any,
            "top_similarity": self.top.best_similarity,
            "max_coverage": self.max_coverage,
            "same_article_as_top": float(article == self.top.passage.article.key),
            "similarity_gap_article": similarity - best_similarity,
            "coverage_gap_article": read.coverage - best_coverage,
            "typed_context": read.context,
            "typed_context_gap": read.context - self.max_context,
        }


def _question_features(question: Question, asked: QuestionWords) -> Values:
    """The same for every candidate: what the question asks, and how much the index knows."""
    values = {
        "question_terms": float(len(question.terms)),
        "question_names": float(len(question.entities)),
        "unknown_share": asked.unknown_share(),
    }
    values.update({f"type_{kind.value}": 0.0 for kind in _TYPES})
    values[f"type_{question.answer_type.value}"] = 1.0
    return values


def _sentence_features(
    question: Question,
    asked: QuestionWords,
    stems: Stems,
    candidate: Candidate,
    read: _Read,
    numbers: set[str],
) -> Values:
    """What the sentence alone says: the question's words in it, its wanted spans, its place."""
    record = candidate.sentence.record
    title = candidate.hit.passage.article.title
    words, typed = read.words, read.typed
    return {
        "coverage": read.coverage,
        "typed": float(sum(full for _, full in typed)),
        "typed_partial": float(sum(not full for _, full in typed)),
        "typed_distance": _typed_distance(question, record.text, stems.spans(record.text), typed),
        "length": len(record.text.split()) / 50,
        "position_in_passage": float(record.id - candidate.hit.passage.first_sentence),
        "paragraph": float(record.paragraph),
        "coverage_specific": asked.specific(words, title),
        "bigrams": asked.bigrams_in(stems.ordered(record.text)),
        "rarest_matched": asked.rarest_matched(words),
        "matched_terms": float(sum(t in words for t in asked.weights)),
        "counted_noun": _counted_noun(question, record.text, typed),
        "question_numbers": _numbers_matched(numbers, record.text),
        "coverage_predicate": asked.predicate(words, title),
    }


def _window_features(asked: QuestionWords, candidate: Candidate, read: _Read) -> Values:
    """The sentence with its neighbours: an answer often leans on the sentence before
    ("there", "he")."""
    similarities = [s.similarity for s in read.window]
    title = candidate.hit.passage.article.title
    return {
        "coverage_window": asked.coverage(read.window_words),
        "similarity_window": sum(similarities) / len(similarities),
        "predicate_window": asked.predicate(read.window_words, title),
    }


def _passage_features(
    asked: QuestionWords, candidate: Candidate, passage_words: set[str], title: set[str]
) -> Values:
    """The passage and its article's title: is the story around it about the question at all?"""
    by_id = {s.record.id: s.similarity for s in candidate.hit.sentences}
    return {
        "coverage_passage": asked.coverage(passage_words),
        "coverage_title": asked.coverage(title),
        "similarity_passage_mean": sum(by_id.values()) / len(by_id),
    }


def _name_features(
    asked: QuestionWords, read: _Read, passage_words: set[str], title: set[str]
) -> Values:
    """Which of the question's own names the sentence, its passage and its window hold."""
    return {
        "names_sentence": asked.names_in(read.words),
        "names_passage": asked.names_in(passage_words),
        "names_window": asked.names_in(read.window_words | title),
    }


def _statement_features(
    question: Question,
    stems: Stems,
    candidate: Candidate,
    read: _Read,
    around: Mapping[int, ScoredSentence],
) -> Values:
    """Whether the sentence is words said, and for "what did X say" whether X said them."""
    text = candidate.text
    reporting, quote = bool(_REPORTING.search(text)), bool(_QUOTE.search(text))
    return {
        "reporting": float(reporting),
        "quote": float(quote),
        "speaker_named": _speaker_named(question, read.words),
        "speaker_before": _speaker_before(question, stems, candidate, around, reporting or quote),
    }


def _numbers_matched(wanted: set[str], sentence: str) -> float:
    """Share of the question's own numbers ("runner number 7", "in 2004") in the sentence.

    The index's words leave one-character tokens out, so "7" counts only here; 0.5 when the
    question has no number.
    """
    if not wanted:
        return 0.5
    return len(wanted & set(_DIGITS.findall(sentence))) / len(wanted)


def _counted_noun(question: Question, sentence: str, typed: list[tuple[Entity, bool]]) -> float:
    """For "how many days": whether a wanted number in the sentence counts days.

    1 when the counted noun's stem is inside or just after a typed span, 0 when not, and 0.5
    when the question counts nothing in particular.
    """
    if question.counted is None:
        return 0.5
    for entity, _ in typed:
        near = terms_of(sentence[entity.start : entity.end + 25])
        if question.counted in near:
            return 1.0
    return 0.0


def _typed_distance(
    question: Question, sentence: str, spans: Spans, typed: list[tuple[Entity, bool]]
) -> float:
    """Characters from the nearest wanted span to the nearest question word, over the length."""
    if not typed:
        return 1.0
    asked = set(question.terms)
    anchors = [start for start, _, stem in spans if stem in asked]
    if not anchors:
        return 1.0
    best = min(
        min(abs(a - e.start) if a < e.start else abs(a - e.end) for a in anchors) for e, _ in typed
    )
    return min(best / max(len(sentence), 1), 1.0)


def _speaker_before(
    question: Question,
    stems: Stems,
    candidate: Candidate,
    around: Mapping[int, ScoredSentence],
    said: bool,
) -> float:
    """For "what did X say": whether the sentence is words said (``said``: a quotation or a
    reporting verb) and X is named in it or in one of the two sentences before it in its
    article ("He added: ..." after "X said"). 0.5 when the question names no speaker."""
    if not question.speaker:
        return 0.5
    if not said:
        return 0.0
    own = candidate.sentence.record.id
    near = neighbours(candidate, around, (own, own - 1, own - 2))
    return float(any(question.speaker_terms & stems.present(s.record.text) for s in near))


def _speaker_named(question: Question, words: set[str]) -> float:
    """For "what did X say": whether the sentence names X (any of X's words)."""
    if not question.speaker:
        return 0.0
    return float(bool(question.speaker_terms & words))
