"""The answering core on the seed article, with the real model and index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer import build_answer, coverage
from bot.engine import Engine
from bot.text_render import mark_text, render_answer
from tests.conftest import SHARED

SEED_QUESTIONS = SHARED / "eval" / "seed_questions.jsonl"


@pytest.fixture(scope="module")
def engine(seed_engine: Engine) -> Engine:
    """The session's engine over the seed article."""
    return seed_engine


def _seed_questions() -> list[dict[str, object]]:
    return [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line]


@pytest.mark.parametrize("case", _seed_questions(), ids=lambda case: str(case["question"]))
def test_seed_questions(engine: Engine, case: dict[str, object]) -> None:
    answer = engine.ask(str(case["question"]))
    expected = case["answer"]
    assert isinstance(expected, list)
    if expected:
        assert answer.found, answer
        for text in expected:
            assert text in answer.sentence
    else:
        assert not answer.found
        assert answer.sentence  # the closest passage is still offered, marked as such


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("Who said that the last battle might last hours or even days?", "Mustafa Bali"),
        ("how many civilians reached SDF lines", "Around 1,500"),
        ("How many fighters did the elders convince to give up?", "100"),
        ("When did Islamic State fighters agree to leave the Lebanon-Syria border area?", "August"),
    ],
)
def test_unseen_phrasings_get_the_short_answer(engine: Engine, question: str, short: str) -> None:
    answer = engine.ask(question)
    assert answer.found and answer.short_answer == short
    [mark] = answer.marks
    assert answer.sentence[mark.start : mark.end] == short


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2018 World Cup?",
        "What is the boiling point of water?",
        "What is the price of bitcoin?",
    ],
)
def test_questions_the_articles_cannot_answer_are_declined(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.found and answer.short_answer is None and answer.confidence < 0.44
    assert render_answer(answer, colour=False).startswith("I couldn't find that in the articles.")


def test_answer_has_source_context_and_more(engine: Engine) -> None:
    answer = engine.ask("Who said the final battle could take hours or days?")
    assert answer.source is not None
    assert answer.source.line() == (
        "All Syrian IS fighters leave Raqa: monitor, 2017-10-15, paragraph 2"
    )
    assert answer.source.path == "raqqa-2017-10-15.txt"
    assert answer.sentence in answer.context
    assert 1 <= len(answer.more) <= 3
    assert all(hit.sentence != answer.sentence for hit in answer.more)
    assert mark_text(answer.sentence, answer.marks, colour=False).startswith("**Mustafa Bali**,")


def test_answer_sentence_is_chosen_across_passages(engine: Engine) -> None:
    result = engine._searcher.search("How many civilians left?")
    answer = build_answer(result)
    assert "1,500" in answer.sentence
    # Coverage weighs the question's content words only, not "how many".
    assert coverage(result, answer.sentence) > coverage(result, "How many left?")


def test_empty_and_hostile_questions_do_not_raise(engine: Engine) -> None:
    for question in ["", "   ", "<b>&</i>", "\x00\u202e😀" * 50, "x" * 10_000]:
        answer = engine.ask(question)
        assert answer.question == question
        assert not answer.found or answer.sentence


def test_seed_index_path(tmp_path: Path) -> None:
    assert SEED_QUESTIONS.is_file()
