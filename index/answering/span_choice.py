"""Which typed span of the answer sentence is the short answer: the features a learned scorer reads.

A news sentence often holds several spans of the wanted kind: "rose 32,000 to 1.41 million",
"jumped 76% to $1.13bn (£600m)", "173 of the 299 votes". Nearest-to-the-question picks the
wrong one as often as not; what tells them apart is the words around each span (the question's
words just before it, "to" or a bracket before it, the counted noun after it), its label, and
its place among the others. The answer model's third booster scores these rows.
"""

from __future__ import annotations

import re

import numpy as np

from index.analysis.entities import Entity
from index.answering.question import AnswerType, Question
from index.storage.lexical import term_spans, terms_of

_LABELS = (
    "PERSON",
    "NORP",
    "FAC",
    "ORG",
    "GPE",
    "LOC",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "DATE",
    "TIME",
    "PERCENT",
    "MONEY",
    "QUANTITY",
    "ORDINAL",
    "CARDINAL",
    "UNTAGGED",
)
_TYPES = list(AnswerType)
_COUNTED = re.compile(r"\bhow (?:many|much|long|far|old)\s+(?P<noun>[a-z]+)")
_REPORTING = re.compile(r"\b(?:said|says|told|tells|added|adds|warned|claimed|according to)\b")
_DIGIT = re.compile(r"\d")

SPAN_FEATURES: tuple[str, ...] = (
    "tier",
    "distance",
    "distance_words",
    "context_3",
    "context_6",
    "terms_before",
    "terms_after",
    "in_brackets",
    "after_to",
    "after_from",
    "after_by",
    "after_of",
    "before_of",
    "counted_noun",
    "order",
    "spans",
    "relative_position",
    "words",
    "has_digit",
    "reporting_distance",
    *(f"label_{label}" for label in _LABELS),
    *(f"type_{kind.value}" for kind in _TYPES),
)


def span_rows(question: Question, sentence: str, spans: list[tuple[Entity, int]]) -> np.ndarray:
    """One row of ``SPAN_FEATURES`` per ``(entity, tier)``.

    Tier 0 is a full label match, 1 an untagged name, 2 a partial label match.
    """
    asked = set(question.terms)
    words = term_spans(sentence)
    anchors = [(start, end) for start, end, stem in words if stem in asked]
    match = _COUNTED.search(question.text.lower())
    counted = terms_of(match.group("noun")) if match else []
    reporting = [m.start() for m in _REPORTING.finditer(sentence)]
    ordered = sorted(range(len(spans)), key=lambda i: spans[i][0].start)
    rank = {index: place for place, index in enumerate(ordered)}
    length = max(len(sentence), 1)
    type_row = [float(kind is question.answer_type) for kind in _TYPES]
    rows = []
    for index, (entity, tier) in enumerate(spans):
        before = [stem for _, end, stem in words if end <= entity.start]
        after = [stem for start, _, stem in words if start >= entity.end]
        lead = sentence[max(0, entity.start - 6) : entity.start].lower()
        tail = sentence[entity.end : entity.end + 5].lower()
        distances = [
            entity.start - end if end <= entity.start else max(start - entity.end, 0)
            for start, end in anchors
        ]
        outside = [stem for start, _, stem in words if not entity.start <= start < entity.end]
        at = len(before)  # the span sits between outside[at - 1] and outside[at]
        word_gaps = [
            at - i if i < at else i - at + 1 for i, stem in enumerate(outside) if stem in asked
        ]
        rows.append(
            [
                float(tier),
                (min(distances) / length) if distances else 1.0,
                float(min(word_gaps)) if word_gaps else 30.0,
                _share(asked, before[-3:] + after[:3]),
                _share(asked, before[-6:] + after[:6]),
                float(sum(stem in asked for stem in before)),
                float(sum(stem in asked for stem in after)),
                float("(" in lead or ";" in lead[-3:]),
                float(lead.endswith(" to ")),
                float(lead.endswith("from ")),
                float(lead.endswith(" by ")),
                float(lead.endswith(" of ")),
                float(tail.startswith(" of ")),
                _counted(counted, after[:2]),
                float(rank[index]),
                float(len(spans)),
                entity.start / length,
                float(len(entity.text_in(sentence).split())),
                float(bool(_DIGIT.search(entity.text_in(sentence)))),
                (min(abs(r - entity.start) for r in reporting) / length) if reporting else 1.0,
                *(float(entity.label == label) for label in _LABELS),
                *type_row,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(spans), len(SPAN_FEATURES))


def _share(asked: set[str], nearby: list[str]) -> float:
    if not asked:
        return 0.0
    return len(asked & set(nearby)) / len(asked)


def _counted(noun: list[str], following: list[str]) -> float:
    """1 when the span counts what "how many X" asks for, 0 when not, 0.5 when it asks no noun."""
    if not noun:
        return 0.5
    return float(noun[0] in following)
