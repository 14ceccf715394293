"""The feedback log: one line per vote, bounded, safe from threads; its summary and export."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.config import Settings
from bot.console import Console
from bot.engine import Engine
from bot.feedback import (
    BAD,
    FEEDBACK_FILE,
    GOOD,
    FeedbackLog,
    bad_questions,
    chat_hash,
    feedback_log_of,
    summarise,
)
from bot.reports import describe_feedback
from index.answering.answer import Answer

QUESTION = "Who said the final battle could take hours or days?"


@pytest.fixture(scope="module")
def answers(seed_engine: Engine) -> dict[str, Answer]:
    return {
        "found": seed_engine.ask(QUESTION),
        "number": seed_engine.ask("How many civilians left?"),
        "declined": seed_engine.ask("What is the capital of Australia?"),
        "spanish": seed_engine.ask("¿Cuántos civiles salieron de Raqqa?"),
    }


def test_a_vote_is_one_line_with_a_hashed_chat(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], GOOD, chat=424242, answer_id="abc", build_id="b1")
    [line] = (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()
    row = json.loads(line)
    assert "424242" not in line
    assert row["chat"] == chat_hash(424242) and len(row["chat"]) == 16
    assert row["vote"] == "good" and row["question"] == QUESTION
    assert row["sentence"].startswith("Mustafa Bali, the spokesman")
    assert row["source"] == {
        "title": "All Syrian IS fighters leave Raqa: monitor",
        "date": "2017-10-15",
        "paragraph": 2,
        "article": "raqqa-2017-10-15.txt",
    }
    assert 0 < row["confidence"] <= 1 and row["build_id"] == "b1"
    assert row["question_type"] == "person" and row["time"].endswith("+00:00")


def test_the_log_lives_beside_the_builds(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", feedback_max_mb=0.5)
    log = feedback_log_of(settings)
    assert log.path == tmp_path / "index" / "feedback.jsonl" and log.max_bytes == 2**19


def test_the_log_is_bounded_and_keeps_the_newest(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 8_000)
    for number in range(200):
        log.record(answers["number"], BAD, chat=number, answer_id=f"a{number}", build_id="b")
        assert log.path.stat().st_size <= 8_000
    votes = log.votes()
    assert 5 < len(votes) < 200
    assert votes[-1]["answer_id"] == "a199"  # the newest stay, in order
    ids = [int(vote["answer_id"][1:]) for vote in votes]
    assert ids == list(range(200 - len(ids), 200))
    assert not list(tmp_path.glob(".feedback*"))  # no temporary file left behind


def test_threads_never_interleave_or_lose_votes(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**24)

    def vote(thread: int) -> None:
        for number in range(50):
            log.record(answers["found"], GOOD, chat=thread, answer_id=f"{thread}-{number}",
                       build_id="b")  # fmt: skip

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400 and all(json.loads(line)["vote"] == GOOD for line in lines)


def test_the_latest_vote_wins_and_bad_questions_export(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], BAD, chat=1, answer_id="x", build_id="b")
    log.record(answers["found"], GOOD, chat=1, answer_id="x", build_id="b")  # changed its mind
    log.record(answers["found"], BAD, chat=2, answer_id="y", build_id="b")  # another chat
    log.record(answers["number"], GOOD, chat=1, answer_id="z", build_id="b")
    log.record(answers["declined"], BAD, chat=1, answer_id="w", build_id="b")
    log.record(answers["spanish"], BAD, chat=1, answer_id="v", build_id="b")
    summary = summarise(log.votes())
    assert summary.votes == 5
    assert {kind: dict(c) for kind, c in summary.by_type.items()} == {
        "person": {"good": 1, "bad": 1},
        "number": {"good": 1},
        "place": {"bad": 1},
        "not_english": {"bad": 1},
    }
    text = describe_feedback(summary)
    assert text.startswith("5 answers voted on: 2 👍, 3 👎")
    assert "person" in text and "50%" in text

    exported = bad_questions(log.votes())
    assert [row["question"] for row in exported] == [
        QUESTION,
        "What is the capital of Australia?",
        "¿Cuántos civiles salieron de Raqqa?",
    ]
    first = exported[0]
    assert set(first) == {"article", "question", "answer", "sentence", "kind", "rejected"}
    assert first["answer"] == [] and first["sentence"] == "" and first["kind"] == "who"
    assert first["rejected"]["article"] == "raqqa-2017-10-15.txt"


def test_unreadable_lines_are_skipped(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.path.write_text('{"vote": "good", "question": "half a li\nnot json\n[1]\n')
    log.record(answers["found"], GOOD, chat=1, answer_id="x", build_id="b")
    assert [vote["answer_id"] for vote in log.votes()] == ["x"]


def test_console_good_and_bad(seed_engine: Engine, tmp_path: Path) -> None:
    said: list[str] = []
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    console = Console(seed_engine, said.append, colour=False, feedback=log)
    console.handle(":good")
    assert said[-1] == "Ask a question first." and not log.exists()
    console.handle(QUESTION)
    console.handle(":good")
    assert said[-1].startswith("Thanks: noted 👍")
    [vote] = log.votes()
    assert vote["vote"] == "good" and vote["question"] == QUESTION
    assert vote["build_id"] == seed_engine.store.manifest.build_id
    console.handle(":bad")  # the same answer: recorded, and the latest wins
    assert summarise(log.votes()).votes == 1
    assert summarise(log.votes()).by_type["person"] == {"bad": 1}
    console.handle("How many civilians left?")
    console.handle(":bad")
    assert summarise(log.votes()).votes == 2
