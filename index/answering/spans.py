"""The short answer inside the chosen sentence, or none when no span of the wanted kind is there.

For typed questions (who, which company, when, how many, how much, where) the candidates are
the entities the build tagged, of the wanted labels, that the question does not already name;
a full label match beats a partial one, then the span nearest the question's words wins.
"What did X say" gets the words said (a quotation, or the clause around the reporting verb),
"who is X" the role or organisation the sentence gives X. A wrong bold answer looks
authoritative, so when nothing fits, nothing is marked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index.analysis.entities import Entity
from index.answering.candidates import wanted_entities
from index.answering.question import AnswerType, Question
from index.answering.span_choice import SPAN_FEATURES, span_rows
from index.storage.lexical import term_spans, terms_of

_CONTEXT_COLUMN = SPAN_FEATURES.index("context_3")
_COUNTED_COLUMN = SPAN_FEATURES.index("counted_noun")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    # The span scorer's P(this is the short answer); 1.0 where no scorer chose (a quotation, a
    # role, or the rule without a scorer).
    confidence: float = 1.0
    # How the span fits the question, for the verifier: its tier (0 a full label match, 1 an
    # untagged name, 2 a partial one), the share of the question's words within three words of
    # it, and whether it counts the noun "how many X" asks for (0.5: no noun asked).
    tier: int = 0
    context: float = 0.0
    counted: float = 0.5


_WHOLE_QUOTE = re.compile(r"[\"“](?P<said>[^\"“”]{8,}?)[\"”]")
# A quotation that goes on in the next sentence, or the end of one begun in the one before.
_PART_QUOTE = re.compile(r"[\"“](?P<said>[^\"“”]{8,})$|^(?P<end>[^\"“”]{8,})[\"”]")
_REPORTING = re.compile(
    r"\b(?:said|says|told|tells|added|adds|warned|warns|claimed|claims|insisted|argued|announced"
    r"|stated|explained|believes|believed|thinks|described|called|urged|admitted|predicted"
    r"|compared|confessed|revealed|suggested)\b(?:\s+(?:that|on \w+|in a statement))?",
)
_NAMED = frozenset({AnswerType.ORGANISATION, AnswerType.PERSON, AnswerType.PLACE})
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,6}\b")
_AMOUNTS = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY", "DATE", "TIME"})
HEDGE = re.compile(  # a hedge right before an amount belongs to it
    r"\b(?:around|about|approximately|roughly|nearly|almost|some|over|more than|less than"
    r"|fewer than|at least|at most|up to|just|only)\s+$",
    re.IGNORECASE,
)
_ACCORDING = re.compile(r"\baccording to\b")
_APPOSITIVE = re.compile(
    r"^\s*,\s*(?P<role>(?:the |a |an )?[^,.;:()]{3,120}?)\s*(?:[,.;:()]|$| said\b| says\b)"
)
_IS_ROLE = re.compile(
    r"^\s+(?:is|was|,)\s+(?P<role>(?:the |a |an )[^,.;:()]{3,120}?)\s*(?:[,.;:()]|$)"
)
_TITLE_WORD = re.compile(r"^(?:[a-z][\w'’-]*|[A-Z][\w'’.&-]*|of|and|&)$")
_STOP_BEFORE_TITLE = frozenset(
    {"said", "says", "told", "added", "and", "but", "the", "a", "an", "as", "with", "by", "for"}
    | {"from", "at", "in", "on", "to", "that", "which", "who", "when", "while", "after", "before"}
)


SpanScorer = Callable[[np.ndarray], np.ndarray]


def short_answer(
    question: Question,
    sentence: str,
    entities: tuple[Entity, ...],
    scorer: SpanScorer | None = None,
) -> Span | None:
    """The span of ``sentence`` that answers ``question``, or None when none is clear.

    ``scorer`` (the answer model's span booster) scores the rows of ``span_choice.span_rows``
    and picks among the spans of the best tier; without one, the span nearest the question's
    words in the best tier wins (the rule the scorer replaced, kept for comparison).
    """
    kind = question.answer_type
    if kind is AnswerType.STATEMENT:
        return statement(question, sentence)
    if kind is AnswerType.DESCRIPTION:
        return description(question, sentence, entities)
    typed = typed_spans(question, sentence, entities)
    if not typed:
        return None
    rows = span_rows(question, sentence, typed)
    confidence = 1.0
    if scorer is not None:
        # The scorer chooses among the spans of the best tier present: a full label match is
        # never passed over for a partial one ("164 minutes", not the runner's number 14).
        scores = scorer(rows)
        tiers = np.array([tier for _, tier in typed])
        best = int(np.argmax(np.where(tiers == tiers.min(), scores, -1.0)))
        confidence = float(scores[best])
    else:
        anchors = _anchors(question, sentence)
        if question.attribution and kind is AnswerType.PERSON:
            anchors = [m.start() for m in _REPORTING.finditer(sentence)] or anchors
        best = min(
            range(len(typed)),
            key=lambda i: (typed[i][1], _distance(typed[i][0], anchors), typed[i][0].start),
        )
    span = widened(sentence, typed[best][0])
    if span is None:
        return None
    return replace(
        span,
        confidence=confidence,
        tier=typed[best][1],
        context=float(rows[best, _CONTEXT_COLUMN]),
        counted=float(rows[best, _COUNTED_COLUMN]),
    )


def typed_spans(
    question: Question, sentence: str, entities: tuple[Entity, ...]
) -> list[tuple[Entity, int]]:
    """Spans of the wanted kind with their tier: 0 a full label, 1 an untagged name, 2 partial."""
    typed = [
        (entity, 0 if full else 2) for entity, full in wanted_entities(question, sentence, entities)
    ]
    if question.answer_type in _NAMED:
        typed += [(entity, 1) for entity in _untagged_names(question, sentence, entities)]
    return typed


def widened(sentence: str, entity: Entity) -> Span | None:
    """The entity as a reader wants it: with its hedge, without framing punctuation."""
    start = entity.start
    if entity.label in _AMOUNTS:  # "more than 15 days" is the answer, not "15 days"
        hedge = HEDGE.search(sentence, 0, start)
        start = hedge.start() if hedge is not None else start
    return _clean(sentence, start, entity.end, keep_period=True)


def _untagged_names(
    question: Question, sentence: str, entities: tuple[Entity, ...]
) -> list[Entity]:
    """Acronyms the tagger left untagged ("the Kurdish YPG militia"), not named in the question.

    They rank between a full label match and a partial one.
    """
    asked = {name.lower() for name in question.entities} | set(question.terms)
    found = []
    for match in _ACRONYM.finditer(sentence):
        inside = any(e.start <= match.start() < e.end for e in entities)
        if not inside and match.group().lower() not in asked and match.start() > 0:
            found.append(Entity("UNTAGGED", match.start(), match.end()))
    return found


def statement(question: Question, sentence: str) -> Span | None:
    """What was said: the quotation in the sentence, else the clause the reporting verb frames."""
    # A whole quotation beats part of one that runs over a sentence end; then the longest.
    quotes = list(_WHOLE_QUOTE.finditer(sentence)) or list(_PART_QUOTE.finditer(sentence))
    if quotes:
        best = max(quotes, key=lambda m: len(m.group()))
        group = "said" if best.group("said") else "end"
        return _clean(sentence, best.start(group), best.end(group))
    verb = _REPORTING.search(sentence) or _ACCORDING.search(sentence)
    if verb is None:
        return None
    before, after = sentence[: verb.start()], sentence[verb.end() :]
    # "The battle could take days, Bali said." puts the words first; "Bali said the ..." after.
    comma = before.rfind(",")
    if comma > 0 and len(before[:comma].split()) >= 4:
        return _clean(sentence, 0, comma)
    if len(after.split()) >= 3:
        return _clean(sentence, verb.end(), len(sentence))
    return None


def description(question: Question, sentence: str, entities: tuple[Entity, ...]) -> Span | None:
    """Who X is: "X, a member of the Raqqa Civil Council," or "chairman Richard Parsons"."""
    if not question.subject:
        return None
    at = _find_name(question.subject, sentence, entities)
    if at is None:
        return None
    start, end = at
    for pattern in (_APPOSITIVE, _IS_ROLE):
        match = pattern.match(sentence[end:])
        if match is not None and not _REPORTING.fullmatch(match.group("role").strip()):
            return _clean(sentence, end + match.start("role"), end + match.end("role"))
    words = sentence[:start].split()
    title: list[str] = []
    while words and _TITLE_WORD.match(words[-1]) and words[-1].lower() not in _STOP_BEFORE_TITLE:
        title.insert(0, words.pop())
        if len(title) == 6:
            break
    if title and any(w[0].islower() for w in title):
        text = " ".join(title)
        begin = sentence.rfind(text, 0, start)
        if begin >= 0:
            return _clean(sentence, begin, begin + len(text))
    return None


def _find_name(subject: str, sentence: str, entities: tuple[Entity, ...]) -> tuple[int, int] | None:
    """Where the sentence names ``subject`` (the whole name, or its last word)."""
    wanted = set(terms_of(subject))
    for entity in entities:
        own = set(terms_of(entity.text_in(sentence)))
        if own and own & wanted:
            return entity.start, entity.end
    last = subject.split()[-1]
    at = sentence.lower().find(last.lower())
    return (at, at + len(last)) if at >= 0 else None


def _anchors(question: Question, sentence: str) -> list[int]:
    asked = set(question.terms)
    return [start for start, _, stem in term_spans(sentence) if stem in asked]


def _distance(entity: Entity, anchors: list[int]) -> int:
    if not anchors:
        return 0
    return min(abs(a - entity.start) if a < entity.start else abs(a - entity.end) for a in anchors)


def _clean(sentence: str, start: int, end: int, *, keep_period: bool = False) -> Span | None:
    """Trim spaces and framing punctuation from both ends of a span.

    A name keeps its final period ("Sedio N.V."); a clause loses its full stop.
    """
    trailing = " ,;:\"“”'‘’)" if keep_period else " ,;:.\"“”'‘’)"
    while start < end and sentence[start] in " ,;:\"“”'‘’(":
        start += 1
    while end > start and sentence[end - 1] in trailing:
        end -= 1
    if end <= start:
        return None
    return Span(start, end, sentence[start:end])
