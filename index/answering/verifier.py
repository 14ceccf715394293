"""Question-level features for the second stage: is the best sentence really the answer?

The first stage scores sentences one by one; whether to answer at all is a judgement about the
question: how far the best sentence stands above the next, above the best of another article,
whether it holds a span of the wanted kind, how much of what the question adds to the story's
title it covers. A second small model reads these and gives the answer's confidence.
"""

from __future__ import annotations

import numpy as np

from index.answering.candidates import Candidate
from index.answering.features import FEATURES
from index.answering.spans import Span

# First-stage features of the best sentence that the second stage reads again.
_CARRIED = (
    "similarity",
    "coverage",
    "coverage_specific",
    "coverage_window",
    "names_sentence",
    "names_passage",
    "unknown_share",
    "typed",
    "typed_partial",
    "typed_any_candidate",
    "typed_distance",
    "counted_noun",
    "top_similarity",
    "max_coverage",
    "question_terms",
    "question_names",
    "speaker_named",
    "typed_context",
    "coverage_predicate",
    "predicate_window",
    "names_window",
)
_TYPE_COLUMNS = tuple(name for name in FEATURES if name.startswith("type_"))
VERIFIER_FEATURES: tuple[str, ...] = (
    "best_probability",
    "margin_next",
    "margin_other_article",
    "close_rivals",
    "has_short_answer",
    "span_confidence",
    "span_tier",
    "span_context",
    "span_counted",
    *(f"best_{name}" for name in _CARRIED),
    *_TYPE_COLUMNS,
)
_COLUMNS = [FEATURES.index(name) for name in (*_CARRIED, *_TYPE_COLUMNS)]


def verifier_row(
    candidates: list[Candidate],
    features: np.ndarray,
    probabilities: np.ndarray,
    span: Span | None,
) -> np.ndarray:
    """One row of ``VERIFIER_FEATURES`` for a question whose candidates were scored."""
    if len(candidates) == 0:
        return np.zeros((1, len(VERIFIER_FEATURES)), dtype=np.float32)
    order = np.argsort(-probabilities, kind="stable")
    best = int(order[0])
    top = float(probabilities[best])
    following = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    article = candidates[best].hit.passage.article.key
    other = max(
        (
            float(p)
            for c, p in zip(candidates, probabilities, strict=True)
            if c.hit.passage.article.key != article
        ),
        default=0.0,
    )
    rivals = float(np.sum(probabilities >= 0.5 * top)) - 1.0
    head = [
        top,
        top - following,
        top - other,
        rivals,
        float(span is not None),
        span.confidence if span is not None else 0.0,
        float(span.tier) if span is not None else 3.0,
        span.context if span is not None else 0.0,
        span.counted if span is not None else 0.5,
    ]
    return np.asarray([head + features[best, _COLUMNS].tolist()], dtype=np.float32)
