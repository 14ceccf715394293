"""``newsdesk bench speakers``: "what did X say" and "who said" questions over the news.

The questions (``data/news_speakers.jsonl``) are asked as a user asks them against an index of
the news articles plus the seed article (four questions are about it). A what_said question is
right when its sentence, or one of its ``also`` sentences, is among the first three statements
listed (the answer sentence, then "more"); a who_said one when the short answer is one of the
names given.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from bot.bench.qa_sets import BENCH_FOLDER, NEWS_ARTICLES, bench_searcher
from bot.config import Settings
from bot.runtime import load_build_embedder
from index.answering.answer import Answer, answer_question
from index.answering.model import load_answer_model

SPEAKER_QUESTIONS = Path(__file__).with_name("data") / "news_speakers.jsonl"
TARGETS = {"what_said_top3": 0.85, "who_said_right": None}
_LISTED = 3


def _seeds(settings: Settings, articles: Path) -> Path:
    """A folder of links to every news article and the seed articles, under var/bench."""
    folder = BENCH_FOLDER / "speakers" / "seeds"
    folder.mkdir(parents=True, exist_ok=True)
    for source in [*sorted(articles.iterdir()), *sorted(settings.seeds_dir.iterdir())]:
        link = folder / source.name
        if source.is_file() and not link.exists():
            link.symlink_to(source.resolve())
    index = BENCH_FOLDER / "speakers" / "index"
    news_index = BENCH_FOLDER / "news" / "index"
    if not index.exists() and news_index.is_dir():  # same articles: no re-embedding
        shutil.copytree(news_index, index, symlinks=True)
    return folder


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
    settings: Settings, questions: Path = SPEAKER_QUESTIONS, articles: Path = NEWS_ARTICLES
) -> dict[str, Any]:
    """Index the news (incrementally) and ask every speaker question; figures per kind."""
    rows = [json.loads(line) for line in questions.read_text("utf-8").splitlines() if line]
    embedder = load_build_embedder(settings.index_setup())
    searcher = bench_searcher("speakers", _seeds(settings, articles), settings, embedder)
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
    searcher.store.close()
    return figures


def format_speaker_bench(figures: dict[str, Any]) -> str:
    lines = [f"Speaker questions: {figures['questions']} ({figures['statements']} statements)"]
    names = {
        "what_said": "what did X say: right statement among the first three",
        "what_said_resolved": "  of them, speaker named by a pronoun or role",
        "who_said": "who said: right speaker as the short answer",
        "who_said_resolved": "  of them, speaker named by a pronoun or role",
    }
    for group, label in names.items():
        if group in figures:
            group_figures = figures[group]
            target = TARGETS.get(f"{group}_top3") if group == "what_said" else None
            met = "" if target is None else (
                f"  target >= {target}: {'met' if group_figures['share'] >= target else 'missed'}"
            )  # fmt: skip
            lines.append(
                f"{label}: {group_figures['right']}/{group_figures['count']} "
                f"= {group_figures['share']:.2f}{met}"
            )
    return "\n".join(lines)
