"""Candidate answer sentences and the features the answer model reads for each.

Every sentence of the top passages is a candidate. Its features say whether it answers this
question: how close it is to the question (dense similarity, idf-weighted word coverage, the
question's own names), whether it holds a span of the wanted kind that the question does not
already name, how near that span is to the question's words, and where it sits in its passage
and its article. Question-level features (the best coverage of any candidate, words the index
never saw) let the same model decline a question the articles do not answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from index.analysis.entities import Entity
from index.answering.question import AnswerType, Question
from index.search.searcher import Hit, ScoredSentence, SearchResult
from index.storage.lexical import term_spans, terms_of

PASSAGES = 5  # candidates come from this many top passages
_REPORTING = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|warned|claimed|insisted|argued|announced|stated"
    r"|explained|according to|believes|thinks|described|called|urged|admitted|predicted)\b",
    re.IGNORECASE,
)
_QUOTE = re.compile(r"[\"“”]")
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
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_COUNTED = re.compile(r"\bhow (?:many|much|long|far|old)\s+(?P<noun>[a-z]+)")
_TYPES = list(AnswerType)
_CONTEXT = 6  # indexed words either side of a wanted span that count as its context

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


def features_of(
    question: Question, result: SearchResult, candidates: list[Candidate]
) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (float32)."""
    weights = {t: w for t, w in result.term_weights.items() if t in set(question.terms)}
    unknown = [t for t in question.terms if t not in result.term_weights]
    unknown_weight = max(weights.values(), default=1.0)
    total = sum(weights.values()) + len(unknown) * unknown_weight
    name_terms = [set(terms_of(name)) for name in question.entities]
    top = result.hits[0]
    around = result.around
    # Sentences, passages and titles repeat across candidates: stem each text once, and make
    # a passage's or a window's words the union of its sentences' (the same words, since no
    # word spans two sentences) instead of stemming the joined text again.
    spans_by_text: dict[str, list[tuple[int, int, str]]] = {}
    lists: dict[str, list[str]] = {}
    sets: dict[str, set[str]] = {}

    def spans_of(text: str) -> list[tuple[int, int, str]]:
        found = spans_by_text.get(text)
        if found is None:
            found = spans_by_text[text] = term_spans(text)
        return found

    def ordered(text: str) -> list[str]:
        found = lists.get(text)
        if found is None:
            found = lists[text] = [stem for _, _, stem in spans_of(text)]
        return found

    def present(text: str) -> set[str]:
        found = sets.get(text)
        if found is None:
            found = sets[text] = set(ordered(text))
        return found

    def union(texts: tuple[str, ...]) -> set[str]:
        words: set[str] = set()
        for text in texts:
            words |= present(text)
        return words

    def coverage(words: set[str]) -> float:
        if total <= 0:
            return 0.0
        return sum(w for term, w in weights.items() if term in words) / total

    def names_in(words: set[str]) -> float:
        if not name_terms:
            return 1.0
        return sum(bool(terms) and terms <= words for terms in name_terms) / len(name_terms)

    question_bigrams = set(pairwise(question.terms))
    rarest = max(weights.values(), default=0.0)

    def specific(words: set[str], title: str) -> float:
        """Coverage by the words the question adds to its story's title: what it asks."""
        own = {t: w for t, w in weights.items() if t not in present(title)}
        whole = sum(own.values())
        if whole <= 0:
            return 0.0
        return sum(w for t, w in own.items() if t in words) / whole

    name_stems = set().union(*name_terms) if name_terms else set()

    def predicate(words: set[str], title: str) -> float:
        """Coverage by what the question asks beyond its names and its story's title."""
        own = {t: w for t, w in weights.items() if t not in name_stems and t not in present(title)}
        whole = sum(own.values())
        if whole <= 0:
            return 0.0
        return sum(w for t, w in own.items() if t in words) / whole

    def typed_context(text: str, typed: list[tuple[Entity, bool]]) -> float:
        """The best coverage of the question's words next to one wanted span: "due in court on
        18 April" answers "when are they next due in court" though the names are elsewhere."""
        if not typed or total <= 0:
            return 0.0
        spans = spans_of(text)
        best = 0.0
        for entity, _ in typed:
            before = [stem for _, end, stem in spans if end <= entity.start][-_CONTEXT:]
            after = [stem for start, _, stem in spans if start >= entity.end][:_CONTEXT]
            best = max(best, coverage(set(before) | set(after)))
        return best

    question_numbers = set(_DIGITS.findall(question.text))
    rows = []
    similarities = np.array([c.sentence.similarity for c in candidates])
    order = np.argsort(-similarities, kind="stable")
    sim_rank = np.empty(len(candidates))
    sim_rank[order] = np.arange(len(candidates))
    per_candidate = []
    for candidate in candidates:
        record = candidate.sentence.record
        passage = candidate.hit.passage
        own = coverage(present(record.text))
        window_words = union(_window(candidate, around))
        window = coverage(window_words)
        typed = wanted_entities(question, record.text, record.entities)
        per_candidate.append((own, window, window_words, typed))
    contexts = [
        typed_context(c.sentence.record.text, typed)
        for c, (_, _, _, typed) in zip(candidates, per_candidate, strict=True)
    ]
    max_context = max(contexts, default=0.0)
    max_coverage = max((own for own, _, _, _ in per_candidate), default=0.0)
    best_in_article: dict[str, tuple[float, float]] = {}
    for candidate, (own, _, _, _) in zip(candidates, per_candidate, strict=True):
        key = candidate.hit.passage.article.key
        sim, cov = best_in_article.get(key, (-1.0, 0.0))
        best_in_article[key] = (max(sim, candidate.sentence.similarity), max(cov, own))
    typed_any = float(any(typed for _, _, _, typed in per_candidate))
    type_row = [0.0] * len(_TYPES)
    type_row[_TYPES.index(question.answer_type)] = 1.0
    for index, candidate in enumerate(candidates):
        record = candidate.sentence.record
        passage = candidate.hit.passage
        own, window, window_words, typed = per_candidate[index]
        words = present(record.text)
        title = present(passage.article.title)
        passage_words = union(tuple(s.record.text for s in candidate.hit.sentences)) | title
        rows.append(
            [
                candidate.sentence.similarity,
                candidate.sentence.similarity - float(similarities.max()),
                float(sim_rank[index]),
                float(candidate.passage_rank),
                candidate.hit.score - top.score,
                candidate.hit.bm25_share,
                own,
                own - max_coverage,
                coverage(passage_words),
                window,
                coverage(title),
                names_in(words),
                names_in(passage_words),
                (len(unknown) * unknown_weight / total) if total > 0 else 0.0,
                float(sum(full for _, full in typed)),
                float(sum(not full for _, full in typed)),
                typed_any,
                _typed_distance(question, record.text, typed),
                float(bool(_REPORTING.search(record.text))),
                float(bool(_QUOTE.search(record.text))),
                _speaker_named(question, record.text),
                len(record.text.split()) / 50,
                float(record.id - passage.first_sentence),
                float(record.paragraph),
                float(len(question.terms)),
                float(len(question.entities)),
                top.best_similarity,
                max_coverage,
                float(passage.article.key == top.passage.article.key),
                candidate.sentence.similarity - best_in_article[passage.article.key][0],
                own - best_in_article[passage.article.key][1],
                specific(words, passage.article.title),
                _bigrams(question_bigrams, ordered(record.text)),
                _rarest(weights, words, rarest),
                float(sum(t in words for t in weights)),
                *_neighbour_similarity(candidate, around),
                _counted_noun(question, record.text, typed),
                _numbers_matched(question_numbers, record.text),
                contexts[index],
                contexts[index] - max_context,
                predicate(words, passage.article.title),
                predicate(window_words, passage.article.title),
                names_in(window_words | title),
                _speaker_before(question, candidate, around),
                *type_row,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(candidates), len(FEATURES))


def _bigrams(wanted: set[tuple[str, str]], terms: list[str]) -> float:
    """Share of the question's adjacent word pairs that the sentence has adjacent too."""
    if not wanted:
        return 0.0
    return len(wanted & set(pairwise(terms))) / len(wanted)


def _rarest(weights: dict[str, float], words: set[str], rarest: float) -> float:
    """The idf of the rarest question word the sentence holds, over the rarest one asked."""
    if rarest <= 0:
        return 0.0
    return max((w for t, w in weights.items() if t in words), default=0.0) / rarest


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
    match = _COUNTED.search(question.text.lower())
    if match is None:
        return 0.5
    noun = terms_of(match.group("noun"))
    if not noun:
        return 0.5
    for entity, _ in typed:
        near = terms_of(sentence[entity.start : entity.end + 25])
        if noun[0] in near:
            return 1.0
    return 0.0


def _neighbour_similarity(
    candidate: Candidate, around: Mapping[int, ScoredSentence]
) -> tuple[float, float]:
    """Mean similarity of the sentence with its neighbours, and of its whole passage.

    An answer often leans on the sentence before ("there", "he"); the passage's mean says
    whether the story around it is about the question at all.
    """
    by_id = {s.record.id: s.similarity for s in candidate.hit.sentences}
    own = candidate.sentence.record.id
    near = _neighbours(candidate, around, (own - 1, own, own + 1))
    window = [s.similarity for s in near]
    return sum(window) / len(window), sum(by_id.values()) / len(by_id)


def _neighbours(
    candidate: Candidate, around: Mapping[int, ScoredSentence], ids: tuple[int, ...]
) -> list[ScoredSentence]:
    """The sentences of ``ids`` in the candidate's article, from its passage or just around it
    (a news paragraph is often a single sentence, so its neighbours are in the next one)."""
    by_id = {s.record.id: s for s in candidate.hit.sentences}
    return [found for i in ids if (found := by_id.get(i) or around.get(i)) is not None]


def _window(candidate: Candidate, around: Mapping[int, ScoredSentence]) -> tuple[str, ...]:
    """The sentence with its neighbours: an answer's subject is often one back."""
    own = candidate.sentence.record.id
    return tuple(s.record.text for s in _neighbours(candidate, around, (own - 1, own, own + 1)))


def _typed_distance(question: Question, sentence: str, typed: list[tuple[Entity, bool]]) -> float:
    """Characters from the nearest wanted span to the nearest question word, over the length."""
    if not typed:
        return 1.0
    asked = set(question.terms)
    anchors = [start for start, _, stem in term_spans(sentence) if stem in asked]
    if not anchors:
        return 1.0
    best = min(
        min(abs(a - e.start) if a < e.start else abs(a - e.end) for a in anchors) for e, _ in typed
    )
    return min(best / max(len(sentence), 1), 1.0)


def _speaker_before(
    question: Question, candidate: Candidate, around: Mapping[int, ScoredSentence]
) -> float:
    """For "what did X say": whether the sentence is words said (a quotation or a reporting
    verb) and X is named in it or in one of the two sentences before it in its article ("He
    added: ..." after "X said"). 0.5 when the question names no speaker."""
    if not question.speaker:
        return 0.5
    text = candidate.text
    if not (_QUOTE.search(text) or _REPORTING.search(text)):
        return 0.0
    wanted = set(terms_of(question.speaker))
    own = candidate.sentence.record.id
    near = _neighbours(candidate, around, (own, own - 1, own - 2))
    return float(any(wanted & set(terms_of(s.record.text)) for s in near))


def _speaker_named(question: Question, sentence: str) -> float:
    """For "what did X say": whether the sentence names X (any of X's words)."""
    if not question.speaker:
        return 0.0
    wanted = set(terms_of(question.speaker))
    return float(bool(wanted & set(terms_of(sentence))))
