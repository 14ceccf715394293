"""Statements by speaker: read at build time, stored, looked up by any alias, and answered."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.config import Settings
from bot.console import Console
from bot.engine import Engine
from index.analysis.embedder import Embedder
from index.analysis.entities import Entity
from index.analysis.statements import extract_statements
from index.errors import IndexMismatchError, Remedy
from index.storage.store import METADATA_FILE, current_build
from tests.conftest import SEED_ARTICLE


def tagged(text: str, *names: tuple[str, str]) -> tuple[str, tuple[Entity, ...]]:
    """A sentence with the entities a tagger would give it (label, name as written)."""
    return text, tuple(
        Entity(label, text.index(name), text.index(name) + len(name)) for label, name in names
    )


def test_seed_statements_and_their_speakers(seed_engine: Engine) -> None:
    bali = seed_engine.quotes("Bali")
    assert [quote.speaker for quote in bali] == ["Mustafa Bali", "Mustafa Bali"]
    assert bali[0].statement == "this final battle could take hours or days"
    assert bali[0].role == "the spokesman for the Kurdish-led Syrian Democratic Forces"
    assert bali[0].verb == "said" and not bali[0].resolved
    # "..., he added." two paragraphs later is Bali's, named by a pronoun only
    assert bali[1].verb == "added" and bali[1].resolved
    assert bali[1].statement.startswith("Around 1,500 civilians had been able to safely make it")
    assert (
        bali[0].source.line()
        == "All Syrian IS fighters leave Raqa: monitor, 2017-10-15, paragraph 2"
    )
    assert seed_engine.quotes("Mustafa Bali") == bali == seed_engine.quotes("mr bali")

    [alloush] = seed_engine.quotes("Omar Alloush")
    assert alloush.statement.startswith("If it happens, it looks like it will be today")
    assert alloush.role == "a member of the Raqqa Civil Council"
    [dillon] = seed_engine.quotes("Col. Ryan Dillon")
    assert dillon.role == "Coalition spokesman"
    assert dillon.statement.startswith('people who leave Raqqa are "monitored and tracked"')
    [sana] = seed_engine.quotes("SANA")
    assert sana.verb == "quoted a Foreign Ministry source as saying"
    assert "constitutes blatant aggression" in sana.statement
    assert seed_engine.quotes("Vladimir Putin") == []


def test_surnames_pronouns_and_roles_resolve_within_the_article() -> None:
    found = extract_statements(
        [
            tagged(
                "Prime Minister Tony Blair said the reforms would go ahead.",
                ("PERSON", "Tony Blair"),
            ),
            tagged('"We will not back down," Mr Blair told MPs.', ("PERSON", "Blair")),
            tagged("Acme Corp said profits would fall sharply this year.", ("ORG", "Acme Corp")),
            tagged("The company said it expected a better second half."),
            tagged("He added that the timetable would not change."),
        ]
    )
    assert [(s.speaker, s.resolved) for s in found] == [
        ("Tony Blair", False),
        ("Tony Blair", False),
        ("Acme Corp", False),
        ("Acme Corp", True),
        ("Tony Blair", True),
    ]
    assert found[0].role == "Prime Minister"
    assert found[1].key == "tony blair" and found[1].surname == "blair"
    assert found[1].verb == "told"
    text = '"We will not back down," Mr Blair told MPs.'
    assert text[found[1].start : found[1].end] == "We will not back down"


def test_newest_first_across_articles(embedder: Embedder, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "old.txt").write_text(
        "Minimum wage rises\n\nPosted 1 March 2004\n\n"
        "Tony Blair said the minimum wage had helped a million workers.\n",
        encoding="utf-8",
    )
    (seeds / "new.txt").write_text(
        "Election called\n\nPosted 5 April 2005\n\n"
        "Mr Blair said the election would be held on 5 May.\n",
        encoding="utf-8",
    )
    (seeds / "undated.txt").write_text(
        "Notes\n\nTony Blair said he was proud of the record on schools.\n", encoding="utf-8"
    )
    settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=tmp_path / "index")
    engine = Engine.load(settings.index_setup(), build_missing=True, embedder=embedder)
    try:
        quotes = engine.quotes("Tony Blair")
        assert [quote.source.date for quote in quotes] == ["2005-04-05", "2004-03-01", None]
        assert engine.quotes("Blair") == quotes
        answer = engine.ask("What did Tony Blair say about schools?")
        assert answer.sentence == "Tony Blair said he was proud of the record on schools."
        assert [more.source.date for more in answer.more] == ["2005-04-05", "2004-03-01"]
    finally:
        engine.store.close()


def test_what_did_bali_say(seed_engine: Engine) -> None:
    answer = seed_engine.ask("What did Mustafa Bali say?")
    assert answer.found and answer.question_type == "statement"
    assert answer.short_answer == "this final battle could take hours or days"
    assert answer.sentence[answer.marks[0].start : answer.marks[0].end] == answer.short_answer
    assert [more.sentence[:22] for more in answer.more] == ["Around 1,500 civilians"]
    about = seed_engine.ask("What did Bali say about the civilians?")
    # The answer model's choice stands; Bali's statement closest to "the civilians" comes first
    # among the further passages whether it answered or declined.
    listed = [about.sentence] if about.found else []
    listed += [more.sentence for more in about.more[:2]]
    assert any(s.startswith("Around 1,500 civilians had been able to safely") for s in listed)
    # nobody of that name said anything here: the ordinary answer path
    other = seed_engine.ask("What did Angela Merkel say about Raqqa?")
    assert other.question_type == "statement" and other.short_answer != other.sentence


def test_who_said_names_a_speaker_given_as_he(seed_engine: Engine) -> None:
    answer = seed_engine.ask("Who said around 1,500 civilians had made it to SDF lines?")
    assert answer.sentence.startswith("Around 1,500 civilians")
    assert answer.short_answer == "Mustafa Bali"


def test_an_index_without_statements_is_updated_on_load(embedder: Embedder, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_ARTICLE, seeds / SEED_ARTICLE.name)
    settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=tmp_path / "index")
    Engine.load(settings.index_setup(), build_missing=True, embedder=embedder).store.close()
    # As an older Newsdesk wrote it: no statements table (the file keeps its size).
    connection = sqlite3.connect(current_build(tmp_path / "index") / METADATA_FILE)
    connection.execute("DROP TABLE statements")
    connection.commit()
    connection.close()

    with pytest.raises(IndexMismatchError) as refused:
        Engine.load(settings.index_setup(), embedder=embedder)
    assert refused.value.remedy is Remedy.UPDATE
    said: list[str] = []
    engine = Engine.load(
        settings.index_setup(), build_missing=True, embedder=embedder, on_build=said.append
    )
    try:
        assert said[0].startswith("The index has no statements by speaker")
        assert len(engine.quotes("Bali")) == 2
    finally:
        engine.store.close()


def test_console_quotes_command(seed_engine: Engine) -> None:
    written: list[str] = []
    console = Console(seed_engine, written.append, colour=False)
    assert console.handle(":quotes Mustafa Bali")
    assert console.handle(":quotes Nobody Atall")
    assert console.handle(":quotes")
    assert written[0].startswith("2 statement(s) by Mustafa Bali, newest first:")
    assert "2. “Around 1,500 civilians had been able" in written[0]
    assert written[1] == "No statements by Nobody Atall in these articles."
    assert written[2] == "Say whose statements: :quotes NAME"
