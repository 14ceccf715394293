"""``newsdesk bench dialogues``: two-turn dialogues, the second turn leaning on the first.

Each dialogue is asked as a user asks it: the first question, then the second read with the
first turn's answer (``bot.conversation``), over the news bench index. The second turn is right
when its sentence or its short answer holds an expected answer, as ``bench news`` judges. Beside
it: the same second questions asked without the memory, and the stand-alone check, every news
question read after a random other one, where nothing may change.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.conversation import read_question, turn_of
from bot.runtime import load_build_embedder
from index.answering.answer import answer_question
from index.answering.followup import Turn, follow_up
from index.answering.model import load_answer_model
from index.answering.question import parse_question
from index.answering.results import Answer
from index.errors import NewsdeskError
from workshop.bench.answer_figures import AnswerTally
from workshop.bench.qa_sets import (
    NEWS_ARTICLES,
    NEWS_QUESTIONS,
    Case,
    news_and_seed_searcher,
    news_cases,
)

DIALOGUES = Path(__file__).with_name("data") / "news_dialogues.jsonl"
TARGET_SECOND_RIGHT = 0.80
# Two dialogues are over the seed article, which the news corpus does not hold.


def load_dialogues(path: Path = DIALOGUES) -> list[tuple[Case, Case]]:
    """Each line: ``{"article", "turns": [{"question", "answer": [...]}, {...}]}``."""
    dialogues = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise NewsdeskError(f"dialogue file {path} is unreadable ({error})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            first, second = (
                Case(str(t["question"]), tuple(map(str, t["answer"])), row["article"], "")
                for t in row["turns"][:2]
            )
        except (ValueError, KeyError, TypeError) as error:
            raise NewsdeskError(f"{path}:{number} is not a dialogue line ({error})") from None
        dialogues.append((first, second))
    return dialogues


def right(case: Case, answer: Answer) -> bool:
    """The right sentence or the right short answer, as ``bench news`` counts them."""
    counts = AnswerTally()
    counts.add(case, answer)
    return bool(counts.right_sentence or counts.right_short)


def standalone_changed(cases: list[Case], seed: int = 15) -> list[tuple[str, str, str]]:
    """Every question read after a random other one (its expected answer as the answer, with a
    sentence and a title): (previous, question, rewrite) for each that ``follow_up`` changed.
    Must be empty."""
    rng = random.Random(seed)
    changed = []
    for case in cases:
        other = rng.choice(cases)
        answer = other.answers[0] if other.answers else None
        previous = Turn(
            other.text,
            sentence=f"{answer or 'Nobody'} said on Tuesday that the deal was on track.",
            short_answer=answer,
            answer_type=parse_question(other.text).answer_type.value,
            title=f"Story of {other.group}",
        )
        rewrite = follow_up(previous, case.text)
        if rewrite is not None:
            changed.append((other.text, case.text, rewrite))
    return changed


def run_dialogue_bench(
    settings: Settings, path: Path = DIALOGUES, articles: Path = NEWS_ARTICLES
) -> dict[str, Any]:
    """Ask every dialogue over the news bench index; returns the figures and each second turn."""
    dialogues = load_dialogues(path)
    embedder = load_build_embedder(settings.index_setup())
    searcher = news_and_seed_searcher(settings, embedder, articles)
    model = load_answer_model()
    rows: list[dict[str, Any]] = []
    for first, second in dialogues:
        answer_one, _ = answer_question(searcher, model, first.text)
        reading = read_question(turn_of(answer_one), second.text)
        answer_two, _ = answer_question(searcher, model, reading.asked)
        alone, _ = answer_question(searcher, model, second.text)
        rows.append(
            {
                "first": first.text,
                "first_right": right(first, answer_one),
                "second": second.text,
                "read_as": reading.asked if reading.rewritten else None,
                "second_right": right(second, answer_two),
                "second_right_alone": right(second, alone),
                "short_answer": answer_two.short_answer,
            }
        )
    searcher.store.close()
    standalone = news_cases(NEWS_QUESTIONS)
    changed = standalone_changed(standalone)
    count = max(len(rows), 1)
    return {
        "set": str(path),
        "dialogues": len(rows),
        "first_right": round(sum(r["first_right"] for r in rows) / count, 4),
        "second_right": round(sum(r["second_right"] for r in rows) / count, 4),
        "second_right_without_memory": round(sum(r["second_right_alone"] for r in rows) / count, 4),
        "rewritten": sum(r["read_as"] is not None for r in rows),
        "standalone_questions": len(standalone),
        "standalone_changed": len(changed),
        "changed_examples": [list(c) for c in changed[:10]],
        "turns": rows,
    }


def format_dialogue_bench(figures: dict[str, Any]) -> str:
    target = TARGET_SECOND_RIGHT
    met = "met" if figures["second_right"] >= target else "MISSED"
    alone = "met" if figures["standalone_changed"] == 0 else "MISSED"
    lines = [
        f"dialogues: {figures['set']}: {figures['dialogues']} two-turn dialogues, "
        f"{figures['rewritten']} second questions rewritten",
        f"  second turn right      {figures['second_right']:.3f}  (target >= {target:.2f}: {met})",
        f"  without the memory     {figures['second_right_without_memory']:.3f}",
        f"  first turn right       {figures['first_right']:.3f}",
        f"  stand-alone changed    {figures['standalone_changed']} of "
        f"{figures['standalone_questions']}  (target 0: {alone})",
        "  second turns (right, question -> read as):",
    ]
    for row in figures["turns"]:
        mark = "+" if row["second_right"] else "-"
        read_as = f" -> {row['read_as']}" if row["read_as"] else ""
        lines.append(f"    {mark} {row['second']}{read_as}")
    lines += [f"  changed: {q!r} after {p!r} -> {r!r}" for p, q, r in figures["changed_examples"]]
    return "\n".join(lines)
