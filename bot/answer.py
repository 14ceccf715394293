"""From a question and its ranked hits to one ``Answer``: the core every front end renders.

A pure function of the search result: no model, no I/O, no Telegram. The answer sentence is
chosen across the top passages, the short answer is marked inside it, and a confidence decides
between answering and an honest "not in these articles" (still showing the closest passage).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bm25s.stopwords import STOPWORDS_EN_PLUS

from bot.spans import QuestionType, question_type, short_answer
from index.lexical import term_spans, terms_of
from index.metadata import ArticleRecord, PassageRecord
from index.search import Hit, ScoredSentence, SearchResult

NOT_FOUND = "I couldn't find that in the articles."
# Words that say what kind of answer is wanted, or that any sentence has, not what it is about.
_FRAMING_TERMS = frozenset(
    terms_of(
        " ".join(STOPWORDS_EN_PLUS)
        + " how many much long who whom whose what when where which why did does do say says said"
        " tell told happen happened might could would also even ever still"
    )
)


@dataclass(frozen=True)
class SentenceChoice:
    """How sentences from the top passages compete to be the answer (tuned on SQuAD 0-23)."""

    passages: int = 3
    passage_weight: float = 1.5  # weight of (passage score - best passage score)
    coverage_weight: float = 1.5  # weight of the question's idf-weighted words in the sentence
    typed_bonus: float = 0.15  # the sentence holds the kind of answer asked for (a number...)


@dataclass(frozen=True)
class Calibration:
    """Logistic model of P(the articles answer the question).

    Features: the best sentence's cosine similarity to the question, and the idf-weighted share
    of the question's words found in the top passage (words the index never saw count as
    missing). Fitted on SQuAD dev with articles 0-11 indexed, their questions as answerable and
    the questions of articles 12-23 as not; the threshold answers 97% of the answerable ones
    there while declining 94% of the others. The SQuAD benchmark reports it on unseen articles.
    """

    bias: float = -12.02
    similarity: float = 17.006
    coverage: float = 8.707
    threshold: float = 0.44


@dataclass(frozen=True)
class Source:
    title: str
    date: str | None
    paragraph: int  # 1-based, as a reader counts
    path: str
    url: str | None = None

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
    confidence: float
    question_type: str
    more: tuple[MoreHit, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_answer(
    result: SearchResult,
    choice: SentenceChoice | None = None,
    calibration: Calibration | None = None,
) -> Answer:
    """Pick the answer sentence and its short answer, and decide whether to answer at all."""
    choice = choice or SentenceChoice()
    calibration = calibration or Calibration()
    kind = question_type(result.question)
    if not result.hits:
        return Answer(result.question, False, "", None, (), "", None, 0.0, kind.value)
    hit, sentence = choose_sentence(result, choice)
    confidence = answer_confidence(result, calibration)
    found = confidence >= calibration.threshold
    span = short_answer(result.question, sentence.record.text) if found else None
    marks = (Mark(span.start, span.end),) if span else _word_marks(result, sentence.record.text)
    more = tuple(
        MoreHit(
            other.best.record.text,
            other.passage.text,
            source_of(other.passage),
            round(other.score, 4),
        )
        for other in result.hits
        if other is not hit
    )[:3]
    return Answer(
        question=result.question,
        found=found,
        sentence=sentence.record.text,
        short_answer=span.text if span else None,
        marks=marks,
        context=hit.passage.text,
        source=source_of(hit.passage),
        confidence=round(confidence, 4),
        question_type=kind.value,
        more=more,
    )


def choose_sentence(result: SearchResult, choice: SentenceChoice) -> tuple[Hit, ScoredSentence]:
    """The best answer sentence across the top passages, not only the first passage's best."""
    top_score = result.hits[0].score
    typed = question_type(result.question) is not QuestionType.OTHER
    best: tuple[float, Hit, ScoredSentence] | None = None
    for hit in result.hits[: choice.passages]:
        for sentence in hit.sentences:
            text = sentence.record.text
            score = (
                sentence.similarity
                + choice.passage_weight * (hit.score - top_score)
                + choice.coverage_weight * coverage(result, text)
            )
            if typed and short_answer(result.question, text) is not None:
                score += choice.typed_bonus
            if best is None or score > best[0]:
                best = (score, hit, sentence)
    assert best is not None  # hits are never empty here, nor a hit's sentences
    return best[1], best[2]


def coverage(result: SearchResult, text: str) -> float:
    """The idf-weighted share of the question's words that ``text`` contains (0..1).

    The words that only frame a question ("how many", "who", "say") do not count; words the
    index has never seen count against, at the weight of the rarest known word.
    """
    weights = {t: w for t, w in result.term_weights.items() if t not in _FRAMING_TERMS}
    unknown = sum(1 for t in result.unknown_terms if t not in _FRAMING_TERMS)
    unknown_weight = max(weights.values(), default=1.0)
    total = sum(weights.values()) + unknown * unknown_weight
    if total <= 0:
        return 0.0
    present = set(terms_of(text))
    return sum(w for term, w in weights.items() if term in present) / total


def answer_confidence(result: SearchResult, calibration: Calibration) -> float:
    top = result.hits[0]
    passage_text = f"{top.passage.article.title}. {top.passage.text}"
    z = (
        calibration.bias
        + calibration.similarity * top.best_similarity
        + calibration.coverage * coverage(result, passage_text)
    )
    return 1.0 / (1.0 + math.exp(-z))


def source_of(passage: PassageRecord) -> Source:
    article: ArticleRecord = passage.article
    return Source(article.title, article.date, passage.paragraph + 1, article.path, article.url)


def _word_marks(result: SearchResult, sentence: str) -> tuple[Mark, ...]:
    """With no short answer, mark the sentence's words that the question asked about."""
    wanted = set(result.terms) - _FRAMING_TERMS
    return tuple(Mark(start, end) for start, end, stem in term_spans(sentence) if stem in wanted)
