"""The answer model file: it loads, its fingerprint is checked, a damaged one is refused, and
the training script runs end to end on a tiny split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import Engine
from index.answering.features import FEATURES
from index.answering.model import (
    DEFAULT_MODEL_PATH,
    AnswerModelError,
    answer_model_fingerprint,
    load_answer_model,
)
from index.errors import IndexMismatchError
from index.storage.manifest import MANIFEST_NAME
from index.storage.store import current_build
from workshop.bench.qa_sets import Case
from workshop.training.answer_model import QuestionSet, ask_all, train_answer_model


def test_the_packaged_model_loads_with_its_fingerprint() -> None:
    model = load_answer_model()
    assert model.fingerprint == answer_model_fingerprint()
    assert 0.0 < model.threshold < 1.0
    assert model.training["seed"] == 13
    assert "news report half" in model.training["held_out"]


def test_a_damaged_model_is_refused_in_one_line(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL_PATH.read_text())
    data["booster"] = data["booster"].replace("leaf_value=", "leaf_value=1", 1)
    damaged = tmp_path / "answer_model.json"
    damaged.write_text(json.dumps(data))
    with pytest.raises(AnswerModelError, match="damaged") as error:
        load_answer_model(damaged)
    assert "\n" not in str(error.value)
    damaged.write_text("{not json")
    with pytest.raises(AnswerModelError, match="unreadable"):
        load_answer_model(damaged)
    with pytest.raises(AnswerModelError, match="missing"):
        load_answer_model(tmp_path / "absent.json")


def test_a_model_for_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_MODEL_PATH.read_text())
    data["features"] = list(FEATURES[:-1])
    other = tmp_path / "answer_model.json"
    other.write_text(json.dumps(data))
    with pytest.raises(AnswerModelError, match="other features"):
        load_answer_model(other)


def test_an_index_built_for_another_answer_model_is_refused_then_updated(
    seed_engine: Engine, tmp_path: Path
) -> None:
    shutil.copytree(seed_engine.setup.index_dir, tmp_path / "index", symlinks=True)
    settings = Settings(
        _env_file=None, seeds_dir=seed_engine.setup.seeds_dir, index_dir=tmp_path / "index"
    )
    manifest = current_build(settings.index_dir) / MANIFEST_NAME
    data = json.loads(manifest.read_text())
    data["answer_model"] = "0123456789abcdef"
    manifest.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="another answer model"):
        Engine.load(settings.index_setup(), embedder=seed_engine.embedder)
    said: list[str] = []
    engine = Engine.load(
        settings.index_setup(),
        build_missing=True,
        on_build=said.append,
        embedder=seed_engine.embedder,
    )
    assert said == ["The answer model has changed: updating the index first."]
    assert engine.store.manifest.answer_model == answer_model_fingerprint()
    engine.store.close()


def test_training_runs_end_to_end_on_a_tiny_split(seed_engine: Engine, tmp_path: Path) -> None:
    searcher = seed_engine._searcher
    key = "raqqa-2017-10-15.txt"
    cases = [
        Case("How many civilians left?", ("1,500",), key, "a"),
        Case("Who said the final battle could take hours or days?", ("Mustafa Bali",), key, "b"),
        Case("Which militia dominates the SDF?", ("YPG",), key, "c"),
        Case("How many fighters does ISIS have in the valley?", ("10,000",), key, "d"),
        Case("What is the capital of Australia?", (), None, "e"),
        Case("Who won the 2018 World Cup?", (), None, "f"),
    ]
    asked = ask_all(searcher, cases)
    assert all(len(a.features) == len(a.candidates) for a in asked)
    assert asked[0].labels.any() and not asked[4].labels.any()
    out = tmp_path / "model.json"
    model, figures = train_answer_model(
        [QuestionSet("tiny", asked[:4] + asked[4:5]), QuestionSet("held", asked, train=False)],
        out,
        rounds=5,
    )
    loaded = load_answer_model(out, reader_path=None)  # the trees alone, as trained here
    assert loaded.fingerprint == model.fingerprint == answer_model_fingerprint(out, None)
    assert set(figures) == {"tiny", "held"}
    assert 0.0 <= figures["held"]["right_sentence"] <= 1.0
