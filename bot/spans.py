"""The short answer inside an answer sentence: a number, a person, a date or a place.

The question's first words say what kind of answer it wants; candidate spans of that kind are
found in the sentence with patterns, and the one nearest the words the question shares with the
sentence wins. Patterns are the right tool here: they run in microseconds on one sentence, where
a tagger would cost the whole latency budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from index.lexical import term_spans, terms_of


class QuestionType(StrEnum):
    NUMBER = "number"
    PERSON = "person"
    DATE = "date"
    PLACE = "place"
    OTHER = "other"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


_TYPE_PATTERNS: list[tuple[QuestionType, re.Pattern[str]]] = [
    (
        QuestionType.DATE,
        re.compile(
            r"^(when\b|what (year|date|day|month|time|century|decade)\b"
            r"|in what (year|month|century)|which (year|date|day|month|century)\b"
            r"|since when\b|by when\b)"
        ),
    ),
    (
        QuestionType.NUMBER,
        re.compile(
            r"^(how (many|much|long|far|old|big|large|tall|high|often|deep|wide|fast)\b"
            r"|what (percentage|percent|number|amount|proportion|share|fraction|size|age)\b"
            r"|at what (age|rate|speed)\b)"
        ),
    ),
    (
        QuestionType.PERSON,
        re.compile(
            r"^(who\b|whom\b|whose\b|which (person|man|woman|official|company|organization|"
            r"organisation|group|militia|agency|party|spokesman|minister|leader|team)\b"
            r"|what (person|company|organization|organisation|group|agency|party)\b)"
        ),
    ),
    (
        QuestionType.PLACE,
        re.compile(
            r"^(where\b|what (country|city|town|state|region|place|province|area|continent)\b"
            r"|which (country|city|town|state|region|place|province|area|continent)\b"
            r"|in (what|which) (country|city|town|state|region|place|province))"
        ),
    ),
]

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|(?:(?:early|late|mid-?)\s*)?{_MONTH}"
    rf"|(?:on\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?"
    r"|(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century|\d{4}s|(?:in\s+)?\d{4}(?:\s*[-–]\s*\d{2,4})?"
    r"|yesterday|today|tomorrow|last (?:week|month|year|night)|this (?:week|month|year))\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|hundred|hundreds|thousand|thousands|dozen|dozens|million|millions|billion)"
)
_UNIT = (
    r"(?:percent|per cent|%|million|billion|trillion|thousand|hundred|days?|weeks?|months?|years?"
    r"|hours?|minutes?|seconds?|km|kilometers?|kilometres?|miles?|meters?|metres?|feet|foot"
    r"|kg|kilograms?|tons?|tonnes?|dollars?|euros?|pounds?|people|times)"
)
_NUMBER = re.compile(
    r"(?:(?:up to|more than|less than|fewer than|over|about|around|nearly|almost|some|at least"
    r"|at most|roughly|approximately)\s+)?"
    rf"(?:[$€£]\s?)?(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORDS}(?:[\s-]{_NUMBER_WORDS})*)\b"
    rf"(?:\s?{_UNIT}\b)?(?:\s{_UNIT}\b)?",
    re.IGNORECASE,
)
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*|de|del|van|von|bin|ibn|el-[A-Z][\w'’-]*)"
_NAME = re.compile(rf"\b[A-Z][\w'’.-]*(?:\s+{_NAME_WORD})*")
_ATTRIBUTION = re.compile(
    rf"(?P<name>[A-Z][\w'’.-]*(?:\s+{_NAME_WORD})*)(?:,[^,]{{1,120}}?,?)?\s+"
    r"(?:said|says|told|added|announced|stated|wrote|claimed|insisted|warned|explained)\b"
)
_ACCORDING = re.compile(rf"according to (?:the\s+)?(?P<name>[A-Z][\w'’.-]*(?:\s+{_NAME_WORD})*)")
_PLACE = re.compile(
    rf"\b(?:in|at|from|near|to|into|outside|across)\s+(?:the\s+)?(?P<name>[A-Z][\w'’.-]*(?:\s+{_NAME_WORD})*)"
)
_ATTRIBUTION_QUESTION = re.compile(
    r"\b(said|say|says|told|tell|announced|stated|claimed|warned|according|quoted|posted)\b",
    re.IGNORECASE,
)
# Capitalised words that start sentences or are titles, not names.
_NOT_NAMES = {
    "The",
    "A",
    "An",
    "But",
    "And",
    "In",
    "On",
    "At",
    "If",
    "It",
    "He",
    "She",
    "They",
    "We",
    "This",
    "That",
    "These",
    "Those",
    "Yesterday",
    "Today",
    "Under",
    "Around",
    "Three",
    "Col.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "Gen.",
    "President",
    "Coalition",
    "Some",
    "After",
    "When",
}


def question_type(question: str) -> QuestionType:
    """What kind of short answer ``question`` asks for."""
    text = " ".join(question.lower().split())
    text = re.sub(r"^(and|so|but|ok|okay|please|tell me|do you know)[, ]+", "", text)
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(text):
            return kind
    return QuestionType.OTHER


def short_answer(question: str, sentence: str) -> Span | None:
    """The span of ``sentence`` that answers ``question``, or None when none is clear."""
    kind = question_type(question)
    if kind is QuestionType.OTHER:
        return None
    candidates = _candidates(kind, question, sentence)
    question_terms = set(terms_of(question))
    fresh = [span for span in candidates if not _repeats_question(span.text, question_terms)]
    if not fresh:
        return None
    anchors = _anchor_positions(sentence, question_terms)
    return min(fresh, key=lambda span: (_distance(span, anchors), span.start))


def _candidates(kind: QuestionType, question: str, sentence: str) -> list[Span]:
    if kind is QuestionType.NUMBER:
        return [_span(m) for m in _NUMBER.finditer(sentence) if _has_number(m.group())]
    if kind is QuestionType.DATE:
        return [_span(m) for m in _DATE.finditer(sentence) if m.group().strip()]
    if kind is QuestionType.PLACE:
        return [_span(m, "name") for m in _PLACE.finditer(sentence) if _is_name(m.group("name"))]
    if _ATTRIBUTION_QUESTION.search(question):
        said = [_span(m, "name") for m in _ATTRIBUTION.finditer(sentence)]
        said += [_span(m, "name") for m in _ACCORDING.finditer(sentence)]
        said = [span for span in (_trim_name(s) for s in said) if span is not None]
        if said:
            return said
    names = [_trim_name(_span(m)) for m in _NAME.finditer(sentence)]
    return [span for span in names if span is not None]


def _span(match: re.Match[str], group: str | int = 0) -> Span:
    start = match.start(group)
    text = match.group(group)
    stripped = text.strip(" ,.;:")
    start += text.find(stripped)
    return Span(start, start + len(stripped), stripped)


def _trim_name(span: Span) -> Span | None:
    """Drop leading non-name words ("The", "Col.") and keep real names only."""
    words = span.text.split()
    offset = 0
    while words and words[0] in _NOT_NAMES:
        offset = span.text.index(words[0], offset) + len(words[0])
        words.pop(0)
    if not words:
        return None
    start = span.start + span.text.index(words[0], offset)
    text = " ".join(words)
    if not _is_name(text):
        return None
    return Span(start, start + len(text), text)


def _is_name(text: str) -> bool:
    return bool(text) and text not in _NOT_NAMES and text[0].isupper()


def _has_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text) or bool(re.search(_NUMBER_WORDS, text, re.I))


def _repeats_question(text: str, question_terms: set[str]) -> bool:
    terms = terms_of(text)
    return bool(terms) and all(term in question_terms for term in terms)


def _anchor_positions(sentence: str, question_terms: set[str]) -> list[int]:
    """Where the question's words occur in the sentence (character offsets)."""
    return [start for start, _, stem in term_spans(sentence) if stem in question_terms]


def _distance(span: Span, anchors: list[int]) -> int:
    if not anchors:
        return 0
    return min(
        abs(anchor - span.start) if anchor < span.start else abs(anchor - span.end)
        for anchor in anchors
    )
