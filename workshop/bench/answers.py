"""``newsdesk bench news`` and ``newsdesk bench squad2``: answer quality as a reader meets it.

Each question is asked the way a user asks it (parsed, searched, answered, query encoding
included, one at a time) against an index of the whole corpus, and judged by
``answer_figures``. Each question is asked twice in the same run: by the answer model's trees
alone ("trees", what answered before the reader) and with the reader deciding ("now"); beside
them the target of the reader issue.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import load_build_embedder
from index.answering.answer import answer_question
from index.answering.model import AnswerModel, load_answer_model
from index.answering.results import Answer
from index.search.searcher import Searcher
from workshop.bench.answer_figures import tally
from workshop.bench.measure import peak_memory_mb, percentile
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

NEWS_TARGETS = {
    "right_sentence": 0.85,
    "right_short_answer": 0.75,
    "declined_unanswerable": 0.65,
    "answered": 0.92,
}
SQUAD2_TARGETS = {
    "no_answer_accuracy": 0.72,
    "short_answer_F1": 0.60,
    "declined_unanswerable": 0.55,
}
LATENCY_TARGETS_MS = (50, 100)  # p50, p95 warm, with the reader
_SHOWN = (
    "right_article",
    "right_sentence",
    "right_short_answer",
    "short_answer_EM",
    "short_answer_F1",
    "answered",
    "declined_unanswerable",
    "no_answer_accuracy",
)


def ask_cases(
    searcher: Searcher, model: AnswerModel, cases: list[Case]
) -> tuple[list[Answer], list[float]]:
    """Answer every case as the engine does; returns the answers and each one's seconds."""
    answer_question(searcher, model, "warm-up question")
    answers, seconds = [], []
    for case in cases:
        started = time.perf_counter()
        answers.append(answer_question(searcher, model, case.text)[0])
        seconds.append(time.perf_counter() - started)
    return answers, seconds


def run_news_bench(
    settings: Settings,
    questions: Path | None = None,
    articles: Path = NEWS_ARTICLES,
) -> dict[str, Any]:
    """Index ``articles`` and ask the reporting half of the news questions (or all of FILE)."""
    cases = half(news_cases(), 1) if questions is None else news_cases(questions)
    embedder = load_build_embedder(settings.index_setup())
    name = "news" if articles == NEWS_ARTICLES else f"news-{abs(hash(articles.resolve())):x}"
    searcher = bench_searcher(name, articles, settings, embedder)
    trees, trees_seconds = ask_cases(searcher, load_answer_model(reader_path=None), cases)
    answers, seconds = ask_cases(searcher, load_answer_model(), cases)
    counts = tally(cases, answers)
    figures: dict[str, Any] = {
        "trees": {**tally(cases, trees).figures(), **_latency(trees_seconds)},
        "set": "news questions, reporting half" if questions is None else str(questions),
        "articles": searcher.store.manifest.counts["articles"],
        "sentences": searcher.store.sentence_count,
        **counts.figures(),
        "by_kind": {kind: dict(c) for kind, c in sorted(counts.by_kind.items())},
        **_latency(seconds),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }
    searcher.store.close()
    return figures


def run_squad2_bench(settings: Settings, path: Path = SQUAD_V2) -> dict[str, Any]:
    """Every paragraph an article, every question asked; all articles and the unseen eight."""
    embedder = load_build_embedder(settings.index_setup())
    searcher = squad_searcher(path, "squad2", settings, embedder)
    cases = squad_cases(path)
    trees, trees_seconds = ask_cases(searcher, load_answer_model(reader_path=None), cases)
    answers, seconds = ask_cases(searcher, load_answer_model(), cases)
    unseen = [i for i, case in enumerate(cases) if case.group not in SQUAD_V2_TUNING]
    figures: dict[str, Any] = {"set": str(path), "sentences": searcher.store.sentence_count}
    for name, chosen in (("all", range(len(cases))), ("unseen 8", unseen)):
        for prefix, given in (("", answers), ("trees ", trees)):
            counts = tally([cases[i] for i in chosen], [given[i] for i in chosen])
            part = counts.figures()
            # Over the answerable questions that were answered, as the earlier issue counted.
            part["short_answer_F1_answered"] = round(counts.f1 / max(counts.answered, 1), 4)
            figures[prefix + name] = part
    figures["trees latency"] = _latency(trees_seconds)
    figures.update(_latency(seconds))
    figures["peak_memory_mb"] = round(peak_memory_mb(), 1)
    searcher.store.close()
    return figures


def _latency(seconds: list[float]) -> dict[str, float]:
    return {
        "latency_p50_ms": round(statistics.median(seconds) * 1000, 2),
        "latency_p95_ms": round(percentile(seconds, 95) * 1000, 2),
    }


def _table(
    figures: dict[str, Any], baseline: dict[str, Any], targets: dict[str, float]
) -> list[str]:
    lines = [f"  {'figure':<24}{'now':>8}{'trees':>8}{'target':>9}"]
    for name in (*_SHOWN, *(t for t in targets if t not in _SHOWN)):
        if name not in figures:
            continue
        before = baseline.get(name)
        before_text = f"{before:>8.3f}" if isinstance(before, float | int) else f"{'-':>8}"
        target = targets.get(name)
        target_text = f"{'>= ' + format(target, '.2f'):>9}" if target is not None else ""
        lines.append(f"  {name:<24}{figures[name]:>8.3f}{before_text}{target_text}")
    return lines


def format_news_bench(figures: dict[str, Any]) -> str:
    lines = [
        f"news: {figures['set']}: {figures['answerable']} answerable, "
        f"{figures['unanswerable']} unanswerable questions over {figures['articles']} articles "
        f"({figures['sentences']} sentences)",
        "  (trees: the answer model's trees alone, as answers were chosen before the reader)",
        *_table(figures, figures["trees"], NEWS_TARGETS),
        "  by kind (asked / right sentence / right short answer / declined):",
    ]
    for kind, counts in figures["by_kind"].items():
        lines.append(
            f"    {kind:<10}{counts.get('asked', 0):>4}{counts.get('sentence', 0):>5}"
            f"{counts.get('short', 0):>5}{counts.get('declined', 0):>5}"
        )
    trees = figures["trees"]
    lines.append(
        f"  latency p50 {figures['latency_p50_ms']} ms, p95 {figures['latency_p95_ms']} ms "
        f"(targets {LATENCY_TARGETS_MS[0]} / {LATENCY_TARGETS_MS[1]}; trees alone "
        f"{trees['latency_p50_ms']} / {trees['latency_p95_ms']} ms), "
        f"peak memory {figures['peak_memory_mb']} MB"
    )
    return "\n".join(lines)


def format_squad2_bench(figures: dict[str, Any]) -> str:
    lines = [f"SQuAD v2.0 half: {figures['set']} ({figures['sentences']} sentences)"]
    for name in ("all", "unseen 8"):
        part = figures[name]
        lines.append(
            f" {name}: {part['answerable']} answerable, {part['unanswerable']} unanswerable"
        )
        targets = SQUAD2_TARGETS if name == "unseen 8" else {}
        lines += _table(part, figures[f"trees {name}"], targets)
    trees = figures["trees latency"]
    lines.append(
        f" latency p50 {figures['latency_p50_ms']} ms, p95 {figures['latency_p95_ms']} ms "
        f"(trees alone {trees['latency_p50_ms']} / {trees['latency_p95_ms']} ms), "
        f"peak memory {figures['peak_memory_mb']} MB"
    )
    return "\n".join(lines)
