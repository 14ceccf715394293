"""The reader's examples: each question asked as a user asks it, its candidates as ranked.

Every question of the benchmark splits is searched against its benchmark index (as ``newsdesk
train answers`` does); the answer model's ranker orders its candidate sentences (out of fold for
the questions the ranker trains on, as it would meet new ones), and the top
``TOP`` of them are kept with the sentence before each, the article's title, the ranker's
probability and whether the sentence holds an expected answer. The reader trains on the hard
negatives this gives (the ranker's own best wrong sentences) and its combiner learns how far to
trust it beside the ranker. Written as JSON Lines, one question a line, so that training can be
rerun without searching again.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from index.answering.model import load_answer_model
from index.answering.reading import sentence_before
from workshop.training.answer_model import Asked, out_of_fold_scores, training_sets

TOP = 12  # candidates kept a question, the ranker's best first
DEFAULT_EXAMPLES = Path("var/reader/examples.jsonl.gz")


@dataclass(frozen=True)
class ReaderCandidate:
    """One candidate sentence as the reader reads it."""

    text: str
    before: str  # the sentence before it in its article, "" at the start
    title: str
    ranker: float  # the answer model's P(answers)
    label: bool  # holds an expected answer in the right article
    article: str


@dataclass(frozen=True)
class ReaderQuestion:
    """One question of a split with its candidates, best first by the ranker."""

    split: str
    group: str
    text: str
    answers: tuple[str, ...]
    answer_type: str
    candidates: tuple[ReaderCandidate, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def reader_question(split: str, asked: Asked, probabilities: np.ndarray) -> ReaderQuestion:
    """The ranker's top ``TOP`` candidates of one asked question, by ``probabilities``."""
    order = np.argsort(-probabilities, kind="stable")[:TOP]
    candidates = tuple(
        ReaderCandidate(
            text=asked.candidates[i].text,
            before=sentence_before(asked.candidates[i], asked.result),
            title=asked.candidates[i].hit.passage.article.title,
            ranker=round(float(probabilities[i]), 5),
            label=bool(asked.labels[i]),
            article=asked.candidates[i].hit.passage.article.key,
        )
        for i in order
    )
    return ReaderQuestion(
        split,
        asked.case.group,
        asked.case.text,
        asked.case.answers,
        asked.question.answer_type.value,
        candidates,
    )


def collect_examples(settings: Settings, out: Path, say: Callable[[str], None]) -> dict[str, int]:
    """Search every split, write ``out``; returns the number of questions of each split."""
    model = load_answer_model(reader_path=None)  # the ranker's order, as the reader meets it
    sets = training_sets(settings, say)
    say("ranking the training questions out of fold")
    unseen = out_of_fold_scores(sets)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    partial = out.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as sink:
        for question_set in sets:
            for asked in question_set.asked:
                scores = unseen.get(id(asked))
                if scores is None:  # a held-out question: the shipped ranker never saw it
                    scores = model.predict(asked.features)
                row = reader_question(question_set.name, asked, scores)
                sink.write(json.dumps(_as_dict(row)) + "\n")
                counts[question_set.name] = counts.get(question_set.name, 0) + 1
    partial.replace(out)
    return counts


def _as_dict(question: ReaderQuestion) -> dict[str, Any]:
    return {
        "split": question.split,
        "group": question.group,
        "text": question.text,
        "answers": list(question.answers),
        "answer_type": question.answer_type,
        "candidates": [c.__dict__ for c in question.candidates],
    }


def read_examples(path: Path) -> Iterator[ReaderQuestion]:
    """The questions ``collect_examples`` wrote."""
    with gzip.open(path, "rt", encoding="utf-8") as source:
        for line in source:
            row = json.loads(line)
            yield ReaderQuestion(
                row["split"],
                row["group"],
                row["text"],
                tuple(row["answers"]),
                row["answer_type"],
                tuple(ReaderCandidate(**c) for c in row["candidates"]),
            )
