"""``newsdesk train answers``: fit the answer model on the tuning splits, report the held-out ones.

Training data (never the splits reported on): SQuAD v1.1 dev articles 0-23, the eight SQuAD v2.0
half articles that are among them, and the training half of the project's own news questions.
Each question is searched as a user would ask it; every sentence of its top passages is an
example, labelled 1 when it holds an expected answer in the right article. The abstention
threshold is chosen on out-of-fold predictions (four folds by article), so it is not fitted on
the very predictions it judges. Reported on: SQuAD v1.1 articles 24-47, the other eight v2
articles, and the reporting half of the news questions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.runtime import load_build_embedder
from index.answering.answer import build_answer
from index.answering.candidates import Candidate, candidates_of
from index.answering.features import FEATURES, features_of
from index.answering.model import DEFAULT_MODEL_PATH, AnswerModel, save_answer_model
from index.answering.question import Question, parse_question
from index.answering.span_choice import SPAN_FEATURES, span_rows
from index.answering.spans import short_answer, typed_spans, widened
from index.answering.verifier import VERIFIER_FEATURES, verifier_row
from index.errors import NewsdeskError
from index.search.searcher import Searcher, SearchResult
from workshop.bench.answer_figures import tally
from workshop.bench.qa_sets import (
    NEWS_ARTICLES,
    SQUAD_V2,
    SQUAD_V2_TUNING,
    Case,
    bench_searcher,
    half,
    news_cases,
    squad_cases,
    squad_searcher,
)
from workshop.bench.squad_data import DEFAULT_SQUAD

SEED = 13
FOLDS = 4
_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 2,
    "seed": SEED,
    "deterministic": True,
}
ROUNDS = 300
# The abstention threshold answers at least this share of the answerable news questions (out
# of fold). Measured on the reporting half (before the general-knowledge questions were
# added): 0.85 here (threshold 0.25) answered 85% and declined 57% of the unanswerable; 0.90
# (threshold 0.175) answered 91% but declined 41%, for 2.9% more right answers and 3.5% more
# wrong ones. A wrong answer in bold is worse than none.
MIN_NEWS_ANSWERED = 0.85
# More of the question's words, names and numbers in a sentence never makes it less likely to
# be the answer: constrained so, the trees cannot learn the opposite from a few odd examples.
_INCREASING = frozenset(
    {
        "coverage",
        "coverage_window",
        "coverage_specific",
        "names_sentence",
        "bigrams",
        "question_numbers",
        "counted_noun",
        "typed",
    }
)
_PARAMS["monotone_constraints"] = [int(name in _INCREASING) for name in FEATURES]
_PARAMS["monotone_constraints_method"] = "advanced"
_SPAN_PARAMS: dict[str, Any] = {
    **{k: v for k, v in _PARAMS.items() if not k.startswith("monotone")},
    "num_leaves": 15,
    "min_data_in_leaf": 20,
}
SPAN_ROUNDS = 200
_VERIFIER_PARAMS: dict[str, Any] = {
    **{k: v for k, v in _PARAMS.items() if not k.startswith("monotone")},
    "num_leaves": 7,
    "min_data_in_leaf": 40,
    "learning_rate": 0.05,
}


@dataclass
class Asked:
    """One case searched: what the model sees for it, and the label of each candidate."""

    case: Case
    question: Question
    result: SearchResult
    candidates: list[Candidate]
    features: np.ndarray
    labels: np.ndarray


@dataclass
class QuestionSet:
    """Cases asked against one index, with the weight their examples get in training."""

    name: str
    asked: list[Asked]
    weight: float = 1.0
    train: bool = True
    figures: dict[str, Any] = field(default_factory=dict)


def ask_all(
    searcher: Searcher, cases: Iterable[Case], progress: Callable[[int], None] | None = None
) -> list[Asked]:
    """Search every case and collect its candidates' features and labels."""
    lookup = searcher.store.metadata.entity_labels
    asked = []
    for number, case in enumerate(cases):
        question = parse_question(case.text, lookup)
        result = searcher.search(question.text)
        candidates = candidates_of(result)
        features = (
            features_of(question, result, candidates)
            if candidates
            else np.zeros((0, len(FEATURES)), dtype=np.float32)
        )
        labels = np.array([_holds_answer(case, c) for c in candidates], dtype=np.float32)
        asked.append(Asked(case, question, result, candidates, features, labels))
        if progress is not None and number % 500 == 499:
            progress(number + 1)
    return asked


def _holds_answer(case: Case, candidate: Candidate) -> bool:
    if not case.answerable or candidate.hit.passage.article.key != case.article:
        return False
    text = candidate.text.lower()
    return any(answer.lower() in text for answer in case.answers)


def train_answer_model(
    sets: list[QuestionSet], out: Path, *, rounds: int = ROUNDS, note: str = ""
) -> tuple[AnswerModel, dict[str, dict[str, Any]]]:
    """Fit the three boosters on the training sets, choose the threshold, write ``out``.

    The verifier learns from the ranker's and the span scorer's out-of-fold scores, as it will
    meet them on new questions, and the threshold is chosen on the verifier's own out-of-fold
    confidences. Returns the model and each set's figures (held-out sets are the honest ones).
    """
    import lightgbm

    training = [s for s in sets if s.train]
    flat = [(a, s) for s in training for a in s.asked]
    if not any(a.labels.any() for a, _ in flat):
        raise NewsdeskError("no training example holds an answer: nothing to learn from")
    folds = [_fold(a.case.group) for a, _ in flat]
    rows: list[tuple[np.ndarray, float] | None] = [None] * len(flat)
    for inside, outside in _splits(folds):
        booster = _fit(lightgbm, _ranker_data(flat, inside), _PARAMS, rounds)
        picker = _fit_spans(lightgbm, [flat[i] for i in inside], required=False)
        for i in outside:
            asked = flat[i][0]
            rows[i] = _verifier_example(asked, _predict(booster, asked.features), picker)
    examples = [
        row or _verifier_example(a, None, None) for row, (a, _) in zip(rows, flat, strict=True)
    ]
    checked = np.zeros(len(flat))
    for inside, outside in _splits(folds):
        verifier = _fit(
            lightgbm, _verifier_data(flat, examples, inside), _VERIFIER_PARAMS, ROUNDS // 2
        )
        for i in outside:
            checked[i] = _predict(verifier, examples[i][0])[0]
    threshold, table = choose_threshold(flat, examples, checked)
    everything = list(range(len(flat)))
    booster = _fit(lightgbm, _ranker_data(flat, everything), _PARAMS, rounds)
    verifier = _fit(
        lightgbm, _verifier_data(flat, examples, everything), _VERIFIER_PARAMS, ROUNDS // 2
    )
    spans = _fit_spans(lightgbm, flat)
    assert spans is not None  # required: no typed answer to learn from raised instead
    stamp = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": SEED,
        "rounds": rounds,
        "params": {k: v for k, v in _PARAMS.items() if k != "num_threads"},
        "verifier_params": {k: v for k, v in _VERIFIER_PARAMS.items() if k != "num_threads"},
        "span_params": {k: v for k, v in _SPAN_PARAMS.items() if k != "num_threads"},
        "sets": {s.name: {"questions": len(s.asked), "weight": s.weight} for s in training},
        "held_out": [s.name for s in sets if not s.train],
        "threshold_table": table,
        "note": note,
    }
    fingerprint = save_answer_model(out, booster, verifier, spans, threshold, stamp)
    model = AnswerModel(booster, verifier, spans, threshold, fingerprint, stamp)
    figures = {s.name: evaluate(model, s.asked) for s in sets}
    for s in sets:
        figures[s.name].update(span_accuracy(model, s.asked))
    return model, figures


def out_of_fold_scores(sets: list[QuestionSet]) -> dict[int, np.ndarray]:
    """The ranker's P(answers) for each training question's candidates, from the folds without it.

    Keyed by ``id`` of the ``Asked``. On its own training questions the ranker is far surer than
    on new ones (news training half: right sentence first 0.94 in-sample, 0.68 on the reporting
    half), so what learns from its scores (the reader's combiner) must see them out of fold.
    """
    import lightgbm

    flat = [(a, s) for s in sets if s.train for a in s.asked]
    folds = [_fold(a.case.group) for a, _ in flat]
    scores: dict[int, np.ndarray] = {}
    for inside, outside in _splits(folds):
        booster = _fit(lightgbm, _ranker_data(flat, inside), _PARAMS, ROUNDS)
        for i in outside:
            scores[id(flat[i][0])] = _predict(booster, flat[i][0].features)
    return scores


@dataclass
class SpanExamples:
    """Typed spans of the sentences that hold an answer, one group per sentence."""

    rows: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    weight: float = 1.0


def span_examples(asked: list[Asked], weight: float = 1.0) -> SpanExamples:
    """Every answer-holding candidate with a typed span that is the answer, and its rivals."""
    examples = SpanExamples(weight=weight)
    for one in asked:
        for candidate, label in zip(one.candidates, one.labels, strict=True):
            if not label:
                continue
            record = candidate.sentence.record
            typed = typed_spans(one.question, record.text, record.entities)
            right = np.array(
                [_span_holds(one.case, record.text, entity) for entity, _ in typed],
                dtype=np.float32,
            )
            if right.any():
                examples.rows.append(span_rows(one.question, record.text, typed))
                examples.labels.append(right)
    return examples


def _span_holds(case: Case, sentence: str, entity: Any) -> bool:
    span = widened(sentence, entity)
    return span is not None and any(a.lower() in span.text.lower() for a in case.answers)


def _stack(sets: list[SpanExamples]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    chosen = [(r, y, s.weight) for s in sets for r, y in zip(s.rows, s.labels, strict=True)]
    if not chosen:
        raise NewsdeskError("no training sentence holds a typed short answer: nothing to learn")
    return (
        np.concatenate([r for r, _, _ in chosen]),
        np.concatenate([y for _, y, _ in chosen]),
        np.concatenate([np.full(len(y), w, dtype=np.float32) for _, y, w in chosen]),
        list(SPAN_FEATURES),
    )


def span_accuracy(model: AnswerModel, asked: list[Asked]) -> dict[str, float]:
    """Of the answer sentences with a typed answer span, how often each way picks it.

    The rule: a full label first, then the span nearest the question's words (tier is column
    0 of the rows, distance column 1); any tier: the span scorer over every typed span; the
    model, as answers use it: the span scorer among the spans of the best tier present.
    """
    examples = span_examples(asked)
    rule, learned, tiered = [], [], []
    for rows, right in zip(examples.rows, examples.labels, strict=True):
        scores = model.score_spans(rows)
        rule.append(float(right[int(np.lexsort((rows[:, 1], rows[:, 0]))[0])]))
        learned.append(float(right[int(np.argmax(scores))]))
        best_tier = rows[:, 0] == rows[:, 0].min()
        tiered.append(float(right[int(np.argmax(np.where(best_tier, scores, -1.0)))]))
    return {
        name: round(float(np.mean(values)), 4) if values else 0.0
        for name, values in (
            ("span_rule", rule),
            ("span_any_tier", learned),
            ("span_model", tiered),
        )
    }


def _splits(folds: list[int]) -> Iterable[tuple[list[int], list[int]]]:
    """(training rows, held-out rows) of each fold that has both."""
    for fold in range(FOLDS):
        inside = [i for i, f in enumerate(folds) if f != fold]
        outside = [i for i, f in enumerate(folds) if f == fold]
        if inside and outside:
            yield inside, outside


def _verifier_example(
    asked: Asked, scores: np.ndarray | None, picker: Any | None
) -> tuple[np.ndarray, float]:
    """The verifier's row for one question and whether its best sentence holds the answer."""
    if scores is None or len(scores) == 0:
        return np.zeros((1, len(VERIFIER_FEATURES)), dtype=np.float32), 0.0
    best = int(np.argmax(scores))
    record = asked.candidates[best].sentence.record
    scorer = None if picker is None else (lambda rows: _predict(picker, rows))
    span = short_answer(asked.question, record.text, record.entities, scorer)
    row = verifier_row(asked.candidates, asked.features, scores, span)
    return row, float(asked.labels[best])


def _fit_spans(
    lightgbm: Any, flat: list[tuple[Asked, QuestionSet]], *, required: bool = True
) -> Any | None:
    """The span scorer, on the answer sentences of ``flat`` (each set's own weight).

    None when no sentence there holds a typed answer and one is not ``required`` (a fold of a
    tiny training set): the rule then stands in for it.
    """
    by_set: dict[str, SpanExamples] = {}
    for asked, owner in flat:
        examples = by_set.setdefault(owner.name, SpanExamples(weight=owner.weight))
        found = span_examples([asked])
        examples.rows += found.rows
        examples.labels += found.labels
    if not required and not any(e.rows for e in by_set.values()):
        return None
    return _fit(lightgbm, _stack(list(by_set.values())), _SPAN_PARAMS, SPAN_ROUNDS)


def _ranker_data(
    flat: list[tuple[Asked, QuestionSet]], keep: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    chosen = [flat[i] for i in keep if len(flat[i][0].features)]
    return (
        np.concatenate([a.features for a, _ in chosen]),
        np.concatenate([a.labels for a, _ in chosen]),
        np.concatenate([np.full(len(a.labels), s.weight, dtype=np.float32) for a, s in chosen]),
        list(FEATURES),
    )


def _verifier_data(
    flat: list[tuple[Asked, QuestionSet]],
    rows: list[tuple[np.ndarray, float]],
    keep: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    return (
        np.concatenate([rows[i][0] for i in keep]),
        np.asarray([rows[i][1] for i in keep], dtype=np.float32),
        np.asarray([flat[i][1].weight for i in keep], dtype=np.float32),
        list(VERIFIER_FEATURES),
    )


def _fit(
    lightgbm: Any,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]],
    params: dict[str, Any],
    rounds: int,
) -> Any:
    rows, labels, weights, names = data
    dataset = lightgbm.Dataset(rows, label=labels, weight=weights, feature_name=names)
    return lightgbm.train(params, dataset, num_boost_round=rounds)


def _predict(booster: Any, features: np.ndarray) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0)
    return np.asarray(booster.predict(features, num_threads=2))


def choose_threshold(
    flat: list[tuple[Asked, QuestionSet]],
    rows: list[tuple[np.ndarray, float]],
    confidence: np.ndarray,
) -> tuple[float, list[dict[str, float]]]:
    """The one threshold that best trades answering against declining on the training sets.

    For each set with unanswerable questions, the no-answer-aware accuracy (answered with the
    right sentence, or declined when unanswerable) is averaged, subject to answering at least
    ``MIN_NEWS_ANSWERED`` of the answerable news questions: a bot that declines too much is no
    use either.
    """
    names = np.array([s.name for _, s in flat])
    answerable = np.array([a.case.answerable for a, _ in flat])
    right = np.array([label for _, label in rows]) > 0
    judged = [n for n in dict.fromkeys(names) if (~answerable[names == n]).any()] or list(
        dict.fromkeys(names)
    )
    news = np.array([n.startswith("news") for n in names]) & answerable
    table = []
    best = (-1.0, 0.5)
    for threshold in np.arange(0.05, 0.96, 0.025):
        says = confidence >= threshold
        good = np.where(answerable, says & right, ~says)
        objective = float(np.mean([good[names == n].mean() for n in judged]))
        news_answered = float(says[news].mean()) if news.any() else 1.0
        table.append(
            {
                "threshold": round(float(threshold), 3),
                "objective": round(objective, 4),
                "news_answered": round(news_answered, 4),
            }
        )
        if news_answered >= MIN_NEWS_ANSWERED and objective > best[0]:
            best = (objective, float(threshold))
    return round(best[1], 3), table


def evaluate(model: AnswerModel, asked: list[Asked]) -> dict[str, Any]:
    """The answer benchmark's figures for already searched questions."""
    answers = [build_answer(a.question, a.result, model) for a in asked]
    return tally([a.case for a in asked], answers).figures()


def _fold(group: str) -> int:
    return hashlib.sha256(group.encode()).digest()[1] % FOLDS


def training_sets(settings: Settings, say: Callable[[str], None]) -> list[QuestionSet]:
    """Search every question of the tuning and reporting splits against its benchmark index."""
    embedder = load_build_embedder(settings.index_setup())
    news = news_cases()
    say(f"news: indexing {NEWS_ARTICLES} and asking {len(news)} questions")
    searcher = bench_searcher("news", NEWS_ARTICLES, settings, embedder)
    news_asked = ask_all(searcher, news)
    train_groups = {case.group for case in half(news, 0)}
    sets = _split(news_asked, train_groups, ("news train half", "news report half"), 8.0)
    v2 = squad_cases(SQUAD_V2)
    say(f"SQuAD v2.0 half: indexing and asking {len(v2)} questions")
    v2_asked = ask_all(squad_searcher(SQUAD_V2, "squad2", settings, embedder), v2)
    sets += _split(v2_asked, SQUAD_V2_TUNING, ("squad2 tuning 8", "squad2 unseen 8"), 1.0)
    v1 = squad_cases(DEFAULT_SQUAD)
    say(f"SQuAD v1.1: indexing and asking {len(v1)} questions")
    v1_asked = ask_all(squad_searcher(DEFAULT_SQUAD, "squad-0-end", settings, embedder), v1)
    first_half = {case.group for case in squad_cases(DEFAULT_SQUAD, slice(0, 24))}
    sets += _split(v1_asked, first_half, ("squad1 0-23", "squad1 24-47"), 0.25)
    return sets


def _split(
    asked: list[Asked], inside: Collection[str], names: tuple[str, str], weight: float
) -> list[QuestionSet]:
    """The questions whose group is ``inside`` to train on (with ``weight``), the rest held out."""
    return [
        QuestionSet(names[0], [a for a in asked if a.case.group in inside], weight),
        QuestionSet(names[1], [a for a in asked if a.case.group not in inside], train=False),
    ]


def run_training(
    settings: Settings, out: Path | None, say: Callable[[str], None]
) -> dict[str, Any]:
    """Collect every split, train, write the model; returns what ``format_training`` prints."""
    sets = training_sets(settings, say)
    path = out or DEFAULT_MODEL_PATH
    say(f"training on {sum(len(s.asked) for s in sets if s.train)} questions")
    model, figures = train_answer_model(sets, path)
    return {
        "path": str(path),
        "fingerprint": model.fingerprint,
        "threshold": model.threshold,
        "figures": figures,
        "held_out": [s.name for s in sets if not s.train],
    }


def format_training(report: dict[str, Any]) -> str:
    lines = [
        f"answer model written to {report['path']} (fingerprint {report['fingerprint']}, "
        f"threshold {report['threshold']})",
        f"{'set':<20}{'sentence':>9}{'short':>7}{'answered':>9}{'declined':>9}{'NA acc':>8}"
        f"{'span rule':>10}{'any tier':>9}{'model':>7}",
    ]
    for name, f in report["figures"].items():
        side = "held out" if name in report["held_out"] else "trained on"
        lines.append(
            f"{name:<20}{f['right_sentence']:>9.3f}{f['right_short_answer']:>7.3f}"
            f"{f['answered']:>9.3f}{f['declined_unanswerable']:>9.3f}"
            f"{f['no_answer_accuracy']:>8.3f}{f.get('span_rule', 0.0):>10.3f}"
            f"{f.get('span_any_tier', 0.0):>9.3f}{f.get('span_model', 0.0):>7.3f}  {side}"
        )
    return "\n".join(lines)
