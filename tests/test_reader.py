"""The reader: the shipped file checked and loaded, its answers read, its training rerun."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.reports import describe_error
from index.answering.question import parse_question
from index.answering.reader import (
    DEFAULT_READER_PATH,
    ReaderError,
    load_reader,
    reader_fingerprint,
)
from index.storage.lexical import terms_of
from tests.test_cli import newsdesk


def _copy_reader(folder: Path) -> Path:
    """The shipped reader's files in ``folder``; returns its reader.json there."""
    meta = json.loads(DEFAULT_READER_PATH.read_text())
    for name in (DEFAULT_READER_PATH.name, meta["model"], meta["tokenizer"]):
        shutil.copy(DEFAULT_READER_PATH.with_name(name), folder / name)
    return folder / DEFAULT_READER_PATH.name


def test_the_shipped_reader_loads_with_its_fingerprint() -> None:
    reader = load_reader()
    assert reader.fingerprint == reader_fingerprint()
    assert reader.candidates >= 1
    assert 0.0 < reader.combiner.threshold < 1.0
    (reading,) = reader.read(
        "Who is the spokesman for the SDF?",
        [("SDF spokesman Talal Sello said the battle was over.", "", "Raqqa")],
    )
    assert reading.span is not None


def test_a_damaged_reader_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _copy_reader(tmp_path)
    model = tmp_path / json.loads(path.read_text())["model"]
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="is damaged") as damaged:
        load_reader(path)
    said = describe_error(damaged.value)
    assert "\n" not in said
    assert said.endswith(
        "reinstall Newsdesk (scripts/install), or retrain it: newsdesk train reader"
    )
    model.unlink()
    with pytest.raises(ReaderError, match="is missing"):
        load_reader(path)
    path.write_text("{not json")
    with pytest.raises(ReaderError, match="is unreadable"):
        load_reader(path)


def test_short_answers_are_read_from_the_answer_sentence(engine: Engine) -> None:
    for text in (
        "Who is the spokesman for the SDF?",
        "How many civilians left?",
        "Who said the final battle could take hours or days?",
        "When did the fighters leave Raqqa?",
    ):
        answer = engine.ask(text)
        assert answer.found, text
        assert answer.short_answer, text
        (mark,) = answer.marks
        assert answer.sentence[mark.start : mark.end] == answer.short_answer
        asked = set(parse_question(text).terms)
        assert not set(terms_of(answer.short_answer)) <= asked, answer.short_answer


def test_nothing_is_marked_without_a_short_answer(engine: Engine) -> None:
    answer = engine.ask("What will the SDF do to the people departing Raqqa?")
    if answer.short_answer is None:
        assert answer.marks == ()
    declined = engine.ask("What is the capital of Australia?")
    assert not declined.found
    assert declined.marks == ()
    assert declined.short_answer is None


@pytest.fixture(scope="module")
def engine(seed_engine: Engine) -> Engine:
    return seed_engine


def test_training_runs_end_to_end_on_a_tiny_split(tmp_path: Path) -> None:
    rows = []
    for number in range(12):
        split = ("news train half", "news report half", "squad2 tuning 8")[number % 3]
        rows.append(
            {
                "split": split,
                "group": f"story {number}",
                "text": "Who opened the bridge?",
                "answers": [f"Mayor Ann Lee {number}"] if number % 4 else [],
                "answer_type": "person",
                "candidates": [
                    {
                        "text": f"Mayor Ann Lee {number} opened the bridge on Monday.",
                        "before": "The bridge took four years to build.",
                        "title": "Bridge opens",
                        "ranker": 0.6,
                        "label": bool(number % 4),
                        "article": "a",
                    },
                    {
                        "text": "Traffic was heavy all week.",
                        "before": "",
                        "title": "Bridge opens",
                        "ranker": 0.2,
                        "label": False,
                        "article": "a",
                    },
                ],
            }
        )
    examples = tmp_path / "examples.jsonl.gz"
    with gzip.open(examples, "wt") as sink:
        sink.writelines(json.dumps(row) + "\n" for row in rows)
    out = tmp_path / "reader" / "reader.json"
    trained = newsdesk(
        "train",
        "reader",
        "--examples",
        str(examples),
        "--out",
        str(out),
        "--steps",
        "2",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    assert "reader written to" in trained.stdout
    assert "news report half" in trained.stdout
    reader = load_reader(out)
    assert reader.training["steps"] == 2
    assert reader.training["seed"] == 13
