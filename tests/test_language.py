"""Questions not in English are refused with one clear line; English ones never are."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.engine import Engine
from index.answering.language import NOT_ENGLISH, REFUSAL, is_english, question_language
from tests.conftest import PROJECT_ROOT

BENCH_DATA = PROJECT_ROOT / "workshop" / "bench" / "data"
NOT_ENGLISH_QUESTIONS = Path(__file__).parent / "data" / "questions_not_english.tsv"


def english_questions() -> list[str]:
    """Every question of the news benchmark, the dialogues' turns included."""
    questions = []
    for path in sorted(BENCH_DATA.glob("news_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if "question" in row:
                questions.append(row["question"])
            questions += [turn["question"] for turn in row.get("turns", ())]
    return questions


def foreign_questions() -> list[tuple[str, str]]:
    rows = NOT_ENGLISH_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [(lang, question) for lang, question in (row.split("\t") for row in rows if row)]


def test_no_english_benchmark_question_is_refused() -> None:
    questions = english_questions()
    assert len(questions) >= 2700
    assert [q for q in questions if not is_english(q)] == []


def test_questions_in_eight_other_languages_are_refused() -> None:
    questions = foreign_questions()
    assert len(questions) >= 40
    assert {lang for lang, _ in questions} == {"es", "fr", "de", "it", "pt", "ru", "ar", "zh"}
    refused = [question for _, question in questions if not is_english(question)]
    assert len(refused) / len(questions) >= 0.95
    assert question_language("Что сказал Mustafa Bali?") == "ru"  # a name in Latin inside
    assert question_language("¿Qué dijo Mustafa Bali sobre la batalla final?") == "es"


@pytest.mark.parametrize(
    "question",
    [
        "Raqqa?",
        "SDF?",
        "Mustafa Bali",
        "¿Quién?",
        "Who is Juan de la Cruz?",
        "What did Le Monde say about the Banco de la Nación?",
        "Los Angeles Las Vegas El Paso",
        "Che Guevara biography",
        "What did Путин say?",
        "WHO SAID THE BATTLE COULD TAKE HOURS?",
        "What does الرقة mean?",
    ],
)
def test_short_questions_and_foreign_names_are_answered(question: str) -> None:
    assert is_english(question)


def test_detection_is_cheap() -> None:
    """It runs on every question: well under a millisecond, and a light import."""
    questions = english_questions()
    started = time.perf_counter()
    for question in questions:
        is_english(question)
    assert (time.perf_counter() - started) / len(questions) < 0.001
    code = (
        "import time; t = time.perf_counter(); import index.answering.language; "
        "print(time.perf_counter() - t)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            cwd=PROJECT_ROOT,
        ).stdout
        for _ in range(3)
    ]  # fmt: skip
    assert min(float(seconds) for seconds in runs) < 0.05  # the best of three: a busy CI


def test_the_engine_refuses_without_searching(seed_engine: Engine) -> None:
    answer = seed_engine.ask("¿Cuántos civiles salieron de Raqqa?")
    assert answer.refusal == REFUSAL and answer.refusal_text == NOT_ENGLISH
    assert not answer.found and answer.source is None and answer.sentence == ""
    assert answer.to_dict()["refusal"] == "not_english"
    english = seed_engine.ask("How many civilians left?")
    assert english.refusal is None and english.found
