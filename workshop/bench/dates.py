"""``newsdesk bench dates``: questions whose answer depends on a date, and resolved event dates.

Three kinds of question (``data/news_dates.jsonl``): ``date_filter`` names the day or month of
the story ("On March 2, 1987, which engine makers ..."), with ``distractors``, articles of
other days on the same subject; ``event_date`` asks when ("When did ... ?"), answered by a
sentence whose relative date the build resolved; ``latest`` asks for the newest news of a
subject an older article also covers. A question is right when the answer is the expected
sentence (or holds an expected answer) from the expected article. Each is asked three ways:
as a user asks it, the same with the time words ignored (the path before dates), and, for
``date_filter``, with the question's range given as ``--since``/``--until``.

The index is the news corpus plus the seed article (its three Raqqa questions), built from
a copy of the news bench index so that only the seed article is embedded. The hand-checked
sample of resolved dates (``data/event_dates_sample.jsonl``) is scored beside.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import load_build_embedder
from index.answering.answer import answer_question, build_answer
from index.answering.model import AnswerModel, load_answer_model
from index.answering.question import parse_question
from index.answering.results import Answer
from index.corpus.event_dates import resolved_phrase
from index.errors import NewsdeskError
from index.search.searcher import Searcher
from index.storage.metadata import Metadata
from workshop.bench.measure import percentile
from workshop.bench.qa_sets import NEWS_ARTICLES, news_and_seed_searcher

DATA = Path(__file__).with_name("data")
DATE_QUESTIONS = DATA / "news_dates.jsonl"
EVENT_DATE_SAMPLE = DATA / "event_dates_sample.jsonl"
TARGETS = {"right": 0.85, "sample_right": 0.90}


@dataclass(frozen=True)
class DateCase:
    question: str
    kind: str
    article: str
    sentence: str
    answers: tuple[str, ...]
    since: date | None
    until: date | None
    event_date: str | None
    distractors: tuple[str, ...]


def date_cases(path: Path = DATE_QUESTIONS) -> list[DateCase]:
    """The date questions (JSON Lines: question, kind, article, sentence, answer, since, ...)."""
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise NewsdeskError(f"question file {path} is unreadable ({error})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(
                DateCase(
                    str(row["question"]),
                    str(row["kind"]),
                    str(row["article"]),
                    str(row["sentence"]),
                    tuple(str(a) for a in row.get("answer") or ()),
                    date.fromisoformat(row["since"]) if row.get("since") else None,
                    date.fromisoformat(row["until"]) if row.get("until") else None,
                    row.get("event_date"),
                    tuple(row.get("distractors") or ()),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise NewsdeskError(f"{path}:{number} is not a date question ({error})") from None
    return cases


def is_right(case: DateCase, answer: Answer) -> bool:
    """The expected sentence, or one holding an expected answer, from the expected article."""
    if answer.source is None or answer.source.key != case.article:
        return False
    sentence = answer.sentence.lower()
    return answer.sentence.strip() == case.sentence.strip() or any(
        gold.lower() in sentence for gold in case.answers
    )


def run_date_bench(
    settings: Settings,
    questions: Path = DATE_QUESTIONS,
    articles: Path = NEWS_ARTICLES,
    sample: Path = EVENT_DATE_SAMPLE,
) -> dict[str, Any]:
    """Ask every date question three ways over the news corpus and the seed article."""
    cases = date_cases(questions)
    embedder = load_build_embedder(settings.index_setup())
    searcher = news_and_seed_searcher(settings, embedder, articles)
    model = load_answer_model()
    answer_question(searcher, model, "warm-up question")
    counts: dict[str, Counter[str]] = {}
    seconds: list[float] = []
    for case in cases:
        kind = counts.setdefault(case.kind, Counter())
        started = time.perf_counter()
        asked = answer_question(searcher, model, case.question)[0]
        seconds.append(time.perf_counter() - started)
        plain = _without_time_words(searcher, model, case.question)
        kind["asked"] += 1
        kind["right"] += is_right(case, asked)
        kind["right_without_time_words"] += is_right(case, plain)
        kind["distractor"] += bool(asked.source and asked.source.key in case.distractors)
        kind["distractor_without"] += bool(plain.source and plain.source.key in case.distractors)
        if case.kind == "date_filter":
            given = answer_question(
                searcher, model, case.question, since=case.since, until=case.until
            )[0]
            kind["right_with_since_until"] += is_right(case, given)
        if case.event_date is not None:
            shown = asked.source.event_date if asked.source else None
            kind["event_date_shown"] += is_right(case, asked) and shown == case.event_date
    total: Counter[str] = sum(counts.values(), Counter())
    figures: dict[str, Any] = {
        "set": str(questions),
        "articles": searcher.store.manifest.counts["articles"],
        "asked": total["asked"],
        "right": round(total["right"] / max(total["asked"], 1), 4),
        "right_without_time_words": round(
            total["right_without_time_words"] / max(total["asked"], 1), 4
        ),
        "by_kind": {name: dict(c) for name, c in sorted(counts.items())},
        "latency_p50_ms": round(statistics.median(seconds) * 1000, 2),
        "latency_p95_ms": round(percentile(seconds, 95) * 1000, 2),
        **_sample_figures(sample),
    }
    searcher.store.close()
    return figures


def format_date_bench(figures: dict[str, Any]) -> str:
    lines = [
        f"dates: {figures['set']}: {figures['asked']} questions over {figures['articles']} "
        "articles",
        f"  right (sentence from the right article)   {figures['right']:.3f}  "
        f"(target >= {TARGETS['right']:.2f}; "
        f"without time words {figures['right_without_time_words']:.3f})",
        "  by kind: asked / right / right without time words / with --since --until /"
        " distractor chosen (without) / event date shown",
    ]
    for kind, c in figures["by_kind"].items():
        given = c.get("right_with_since_until", "-") if kind == "date_filter" else "-"
        shown = c.get("event_date_shown", "-") if kind == "event_date" else "-"
        lines.append(
            f"    {kind:<12}{c.get('asked', 0):>4}{c.get('right', 0):>5}"
            f"{c.get('right_without_time_words', 0):>5}{given!s:>5}"
            f"{c.get('distractor', 0):>5} ({c.get('distractor_without', 0)}){shown!s:>5}"
        )
    if figures.get("sample_checked"):
        lines.append(
            f"  resolved relative dates, hand-checked sample: {figures['sample_right']:.3f} right "
            f"of {figures['sample_checked']} (target >= {TARGETS['sample_right']:.2f})"
        )
    lines.append(
        f"  latency p50 {figures['latency_p50_ms']} ms, p95 {figures['latency_p95_ms']} ms"
    )
    return "\n".join(lines)


def sample_event_dates(metadata: Metadata, count: int = 50, seed: int = 15) -> list[dict[str, Any]]:
    """A seeded random sample of sentences with a resolved event date, for checking by hand."""
    ids = metadata.event_dated()
    chosen = sorted(random.Random(seed).sample(ids, min(count, len(ids))))
    records = metadata.sentences(chosen)
    rows = []
    for key in chosen:
        record = records[key]
        spans = metadata.entities_between(key, key + 1)[0]
        found = resolved_phrase(record.text, spans, record.article.date)
        rows.append(
            {
                "article": record.article.key,
                "article_date": record.article.date,
                "phrase": found[0] if found else None,
                "resolved": record.event_date,
                "sentence": record.text,
                "verdict": None,
            }
        )
    return rows


def _sample_figures(path: Path) -> dict[str, Any]:
    """The share of the hand-checked sample judged right ("right" / "wrong" verdicts)."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError):
        return {}
    judged = [row for row in rows if row.get("verdict") in ("right", "wrong")]
    right = sum(row["verdict"] == "right" for row in judged)
    return {"sample_checked": len(judged), "sample_right": round(right / max(len(judged), 1), 4)}


def _without_time_words(searcher: Searcher, model: AnswerModel, text: str) -> Answer:
    """The answer as it was before dates: the question's words matched as they are."""
    question = parse_question(text, searcher.store.metadata.entity_labels)
    return build_answer(question, searcher.search(question.text), model)


def write_event_date_sample(settings: Settings, out: Path, count: int = 50) -> str:
    """Write ``sample_event_dates`` of the date bench's index to ``out``; says what it wrote."""
    embedder = load_build_embedder(settings.index_setup())
    searcher = news_and_seed_searcher(settings, embedder, NEWS_ARTICLES)
    rows = sample_event_dates(searcher.store.metadata, count)
    searcher.store.close()
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return f"{len(rows)} resolved event dates written to {out}; set each verdict by hand"
