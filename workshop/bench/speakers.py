"""``newsdesk bench speakers``: "what did X say" and "who said" questions over the news.

The questions (``data/news_speakers.jsonl``) are asked as a user asks them against an index of
the news articles plus the seed article (four questions are about it). A what_said question is
right when its sentence, or one of its ``also`` sentences, is among the first three statements
listed (the answer sentence, then "more"); a who_said one when the short answer is one of the
names given.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import load_build_embedder
from index.answering.answer import answer_question
from index.answering.model import load_answer_model
from index.answering.results import Answer
from index.storage.metadata import Metadata, StatementRecord
from workshop.bench.qa_sets import NEWS_ARTICLES, news_and_seed_searcher

SPEAKER_QUESTIONS = Path(__file__).with_name("data") / "news_speakers.jsonl"
# 100 extracted statements, each judged by reading its article: speaker right or not.
STATEMENT_SAMPLE = Path(__file__).with_name("data") / "statements_sample.jsonl"
SAMPLE_SEED = 15
TARGETS = {"what_said_top3": 0.85, "speaker_right": 0.90}
_LISTED = 3


def statement_sample(
    metadata: Metadata, count: int = 100, seed: int = SAMPLE_SEED
) -> list[dict[str, Any]]:
    """``count`` stored statements picked by a seeded hash of article and sentence: the same
    statements come out again after an unrelated change to the extractor, so earlier verdicts
    still apply. Each row leaves ``speaker_right`` for a person to fill in."""

    def rank(record: StatementRecord) -> str:
        key = f"{seed}|{record.sentence.article.key}|{record.sentence.text}"
        return hashlib.sha256(key.encode()).hexdigest()

    return [
        {
            "article": record.sentence.article.key,
            "sentence": record.sentence.text,
            "speaker": record.speaker,
            "role": record.role,
            "verb": record.verb,
            "statement": record.text,
            "resolved": record.resolved,
            "speaker_right": None,
        }
        for record in sorted(metadata.all_statements(), key=rank)[:count]
    ]


def judged_sample(path: Path = STATEMENT_SAMPLE) -> dict[str, Any]:
    """The hand-checked sample's figure: the share of statements with the right speaker."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    judged = [row for row in rows if row.get("speaker_right") is not None]
    right = sum(bool(row["speaker_right"]) for row in judged)
    return {"count": len(judged), "right": right, "share": round(right / max(1, len(judged)), 4)}


def _same(a: str, b: str) -> bool:
    """Sentences match when one holds the other (the two splitters cut quotes differently)."""
    x, y = _norm(a), _norm(b)
    return bool(x and y) and (x in y or y in x)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[\"“”'’]", "", text.lower()).split())


def judge(row: dict[str, Any], answer: Answer) -> bool:
    if row["kind"] == "what_said":
        listed = [answer.sentence, *(more.sentence for more in answer.more)][:_LISTED]
        wanted = [row["sentence"], *(also["sentence"] for also in row.get("also", []))]
        return answer.found and any(_same(w, s) for w in wanted for s in listed if s)
    short = _norm(answer.short_answer or "")
    return bool(short) and any(short == _norm(name) for name in row["answer"])


def run_speaker_bench(
    settings: Settings,
    questions: Path = SPEAKER_QUESTIONS,
    articles: Path = NEWS_ARTICLES,
    sample_out: Path | None = None,
) -> dict[str, Any]:
    """Index the news (incrementally) and ask every speaker question; figures per kind, and
    the hand-checked sample's. ``sample_out``: write a fresh sample to judge there."""
    rows = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line]
    embedder = load_build_embedder(settings.index_setup())
    searcher = news_and_seed_searcher(settings, embedder, articles)
    model = load_answer_model()
    figures: dict[str, Any] = {"questions": len(rows), "wrong": []}
    counts: dict[str, list[int]] = {}
    for row in rows:
        answer, _ = answer_question(searcher, model, row["question"])
        right = judge(row, answer)
        for group in (row["kind"], f"{row['kind']}_resolved" if row.get("resolved") else ""):
            if group:
                tally = counts.setdefault(group, [0, 0])
                tally[0] += 1
                tally[1] += int(right)
        if not right:
            figures["wrong"].append(
                {"question": row["question"], "sentence": answer.sentence[:160],
                 "short_answer": answer.short_answer}
            )  # fmt: skip
    for group, (count, hits) in counts.items():
        figures[group] = {"count": count, "right": hits, "share": round(hits / count, 4)}
    figures["statements"] = searcher.store.metadata.statement_count()
    figures["speaker_right"] = judged_sample()
    if sample_out is not None:
        rows = statement_sample(searcher.store.metadata)
        sample_out.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    searcher.store.close()
    return figures


def format_speaker_bench(figures: dict[str, Any]) -> str:
    lines = [f"Speaker questions: {figures['questions']} ({figures['statements']} statements)"]
    names = {
        "what_said": "what did X say: right statement among the first three",
        "what_said_resolved": "  of them, speaker named by a pronoun or role",
        "who_said": "who said: right speaker as the short answer",
        "who_said_resolved": "  of them, speaker named by a pronoun or role",
        "speaker_right": "hand-checked sample of extracted statements: speaker right",
    }
    for group, label in names.items():
        if group in figures:
            group_figures = figures[group]
            target = TARGETS.get("what_said_top3" if group == "what_said" else group)
            met = "" if target is None else (
                f"  target >= {target}: {'met' if group_figures['share'] >= target else 'missed'}"
            )  # fmt: skip
            lines.append(
                f"{label}: {group_figures['right']}/{group_figures['count']} "
                f"= {group_figures['share']:.2f}{met}"
            )
    return "\n".join(lines)
