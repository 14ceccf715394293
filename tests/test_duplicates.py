"""One fact told by two articles is one hit, with where else it was told."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.render import render_answer as telegram_answer
from bot.text_render import render_answer, render_more
from index.analysis.embedder import Embedder
from index.answering.duplicates import same_statement
from tests.conftest import SEED_ARTICLE

QUESTION = "Who said the final battle could take hours or days?"
ANSWER_START = "Mustafa Bali, the spokesman"


def test_the_same_sentence_updated_is_one_statement() -> None:
    said = "Mustafa Bali, the spokesman for the SDF, said on Saturday the battle could take days."
    assert same_statement(said, said.replace("on Saturday ", ""))
    assert same_statement(said, said.replace("days", "weeks"))
    assert not same_statement(said, "Mustafa Bali said the SDF had taken the national hospital.")
    assert not same_statement("He said so.", "She said so.")  # short: never merged by chance


@pytest.fixture(scope="module")
def syndicated(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The seed article and a wire copy of it: another title and date, one paragraph cut."""
    root = tmp_path_factory.mktemp("syndicated")
    seeds = root / "seeds"
    seeds.mkdir()
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    (seeds / SEED_ARTICLE.name).write_text(text, encoding="utf-8")
    _, _, body = text.split("\n\n", 2)
    paragraphs = body.split("\n\n")
    copy = "\n\n".join(["Last IS fighters quit Raqqa", "Posted October 16, 2017", *paragraphs[1:]])
    (seeds / "wire-copy.txt").write_text(copy, encoding="utf-8")
    settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=root / "index")
    return Engine.load(settings.index_setup(), build_missing=True, embedder=embedder)


def test_a_syndicated_sentence_is_one_hit_also_in_the_other(syndicated: Engine) -> None:
    answer = syndicated.ask(QUESTION)
    assert answer.found and answer.sentence.startswith(ANSWER_START)
    assert answer.source is not None
    [other] = answer.also_in
    assert {answer.source.title, other.title} == {
        "All Syrian IS fighters leave Raqa: monitor",
        "Last IS fighters quit Raqqa",
    }
    assert not any(same_statement(hit.sentence, answer.sentence) for hit in answer.more)
    sentences = [hit.sentence for hit in answer.more]
    assert len(sentences) == len(set(sentences))  # each further sentence listed once
    assert all(len(hit.also_in) <= 1 for hit in answer.more)
    assert f"also in: {other.short()}" in render_answer(answer, colour=False)
    assert "also in:" in "".join(telegram_answer(answer))
    shown_twice = [hit for hit in answer.more if hit.also_in]
    assert shown_twice, "the copy's other sentences are folded into the listed ones"
    assert "also in:" in render_more(answer.more, colour=False)


def test_one_article_has_no_also_in(seed_engine: Engine, tmp_path: Path) -> None:
    answer = seed_engine.ask(QUESTION)
    assert answer.found and answer.also_in == ()
    assert "also in" not in render_answer(answer, colour=False)
