"""The figures every answer benchmark prints, computed one way: article, sentence, short answer.

An answer is judged as a reader judges it: the right article; the right sentence (it holds an
expected answer); the right short answer (the expected string inside the marked answer, or
SQuAD's exact match and token F1 against it); answered or declined.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workshop.bench.qa_sets import Case


class AnswerLike(Protocol):
    @property
    def found(self) -> bool: ...
    @property
    def sentence(self) -> str: ...
    @property
    def short_answer(self) -> str | None: ...
    @property
    def source(self) -> Any: ...


@dataclass
class AnswerTally:
    """Counts over answerable and unanswerable questions."""

    answerable: int = 0
    unanswerable: int = 0
    right_article: int = 0
    right_sentence: int = 0
    answered_right: int = 0  # answered, with a sentence that holds the answer
    right_short: int = 0
    answered: int = 0
    declined: int = 0
    exact: int = 0
    f1: float = 0.0
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, case: Case, answer: AnswerLike) -> None:
        kind = self.by_kind.setdefault(case.kind or "-", Counter())
        kind["asked"] += 1
        if not case.answerable:
            self.unanswerable += 1
            self.declined += not answer.found
            kind["declined"] += not answer.found
            return
        self.answerable += 1
        self.answered += answer.found
        if answer.source is not None and answer.source.key == case.article:
            self.right_article += 1
        sentence = answer.sentence.lower()
        hit_sentence = any(gold.lower() in sentence for gold in case.answers)
        self.right_sentence += hit_sentence
        self.answered_right += hit_sentence and answer.found
        kind["sentence"] += hit_sentence
        short = answer.short_answer if answer.found else None
        if short:
            hit_short = any(gold.lower() in short.lower() for gold in case.answers)
            self.right_short += hit_short
            kind["short"] += hit_short
            self.exact += max(normalize(short) == normalize(gold) for gold in case.answers)
            self.f1 += max(token_f1(short, gold) for gold in case.answers)

    def figures(self) -> dict[str, float | int]:
        a, u = max(self.answerable, 1), max(self.unanswerable, 1)
        total = max(self.answerable + self.unanswerable, 1)
        return {
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "right_article": round(self.right_article / a, 4),
            "right_sentence": round(self.right_sentence / a, 4),
            "right_short_answer": round(self.right_short / a, 4),
            "short_answer_EM": round(self.exact / a, 4),
            "short_answer_F1": round(self.f1 / a, 4),
            "answered": round(self.answered / a, 4),
            "declined_unanswerable": round(self.declined / u, 4),
            "no_answer_accuracy": round((self.answered_right + self.declined) / total, 4),
        }


def tally(cases: Sequence[Case], answers: Sequence[AnswerLike]) -> AnswerTally:
    counts = AnswerTally()
    for case, answer in zip(cases, answers, strict=True):
        counts.add(case, answer)
    return counts


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 between a predicted and a gold answer."""
    predicted, expected = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)
