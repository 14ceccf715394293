"""Event dates: relative dates of sentences resolved against the article's date at build time."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import Engine
from index.analysis.entities import Entity
from index.corpus.event_dates import (
    describe_event_date,
    event_range,
    resolve_phrase,
    sentence_event_date,
)
from index.errors import IndexMismatchError
from index.storage.manifest import MANIFEST_NAME
from index.storage.store import METADATA_FILE, current_build, file_sizes

SUNDAY = date(2017, 10, 15)  # the seed article's date
MONDAY = date(1987, 3, 2)


@pytest.mark.parametrize(
    ("phrase", "anchor", "expected"),
    [
        ("Saturday", SUNDAY, "2017-10-14"),  # the most recent Saturday
        ("on Saturday", SUNDAY, "2017-10-14"),
        ("Sunday", SUNDAY, "2017-10-15"),  # the article's own weekday: that day
        ("last Sunday", SUNDAY, "2017-10-08"),
        ("Thursday", SUNDAY, "2017-10-12"),
        ("Sunday afternoon", MONDAY, "1987-03-01"),
        ("yesterday", MONDAY, "1987-03-01"),
        ("Yesterday, late in the evening", SUNDAY, "2017-10-14"),
        ("tomorrow", MONDAY, "1987-03-03"),
        ("last night", MONDAY, "1987-03-01"),
        ("last night's", MONDAY, "1987-03-01"),
        ("14 October", SUNDAY, "2017-10-14"),
        ("February 26", MONDAY, "1987-02-26"),
        ("December 28", date(1987, 1, 5), "1986-12-28"),  # not a date ten months ahead
        ("last week", SUNDAY, "2017-W40"),
        ("this week", SUNDAY, "2017-W41"),
        ("last month", SUNDAY, "2017-09"),
        ("January", MONDAY, "1987-01"),
        ("last March", MONDAY, "1986-03"),
        ("mid March", date(1987, 2, 26), "1987-03"),  # the coming month, not a year back
        ("January", date(1987, 12, 20), "1988-01"),
        ("June", MONDAY, "1986-06"),
    ],
)
def test_phrases_resolve_against_the_article_date(phrase: str, anchor: date, expected: str) -> None:
    assert resolve_phrase(phrase, anchor) == expected


@pytest.mark.parametrize("phrase", ["the last week", "annual", "1986", "the year", "quarterly"])
def test_stretches_of_time_are_no_event_date(phrase: str) -> None:
    assert resolve_phrase(phrase, SUNDAY) is None


def test_a_weekday_in_a_sentence_about_the_future_is_the_coming_one() -> None:
    text = "The talks will resume on Thursday, officials said."
    start = text.index("Thursday")
    spans = [Entity("DATE", start, start + len("Thursday"))]
    assert sentence_event_date(text, spans, "1987-03-02") == "1987-03-05"
    assert sentence_event_date(text, spans, None) is None  # undated: nothing to count from


def test_a_newspaper_named_after_a_day_is_no_date() -> None:
    text = "The Sunday Express said its poll, conducted on Friday, found the Tories ahead."
    spans = [Entity("DATE", 4, 10), Entity("DATE", text.index("Friday"), text.index(", found"))]
    assert sentence_event_date(text, spans, "1987-03-01") == "1987-02-27"


def test_a_day_beats_a_week_in_the_same_sentence() -> None:
    text = "Prices fell last week, and on Tuesday they fell again."
    spans = [Entity("DATE", 12, 21), Entity("DATE", text.index("Tuesday"), text.index(" they"))]
    assert sentence_event_date(text, spans, "1987-03-02") == "1987-02-24"


def test_ranges_and_words_of_event_dates() -> None:
    assert event_range("2017-10-14") == (date(2017, 10, 14), date(2017, 10, 14))
    assert event_range("2017-W40") == (date(2017, 10, 2), date(2017, 10, 8))
    assert event_range("1987-02") == (date(1987, 2, 1), date(1987, 2, 28))
    assert describe_event_date("2017-W40") == "the week of 2017-10-02"


def test_the_seed_article_stores_saturday_as_14_october(seed_engine: Engine) -> None:
    metadata = seed_engine.store.metadata
    assert metadata.has_event_dates
    records = metadata.sentences(range(seed_engine.store.sentence_count))
    bali = next(r for r in records.values() if r.text.startswith("Mustafa Bali"))
    assert "said on Saturday" in bali.text
    assert bali.event_date == "2017-10-14"
    undated = next(r for r in records.values() if r.text.startswith("Around 1,500 civilians"))
    assert undated.event_date is None  # "within the last week" is a stretch, not a date


def test_an_answer_shows_the_event_date_beside_the_article_date(seed_engine: Engine) -> None:
    answer = seed_engine.ask("When did Mustafa Bali say the final battle could take hours?")
    assert answer.source is not None
    assert answer.source.event_date == "2017-10-14"
    assert "2017-10-15, events of 2017-10-14, paragraph" in answer.source.line()
    assert answer.to_dict()["source"]["event_date"] == "2017-10-14"


def test_an_index_without_event_dates_is_refused_then_updated(
    seed_engine: Engine, tmp_path: Path
) -> None:
    shutil.copytree(seed_engine.setup.index_dir, tmp_path / "index", symlinks=True)
    settings = Settings(
        _env_file=None, seeds_dir=seed_engine.setup.seeds_dir, index_dir=tmp_path / "index"
    )
    folder = current_build(settings.index_dir)
    with sqlite3.connect(folder / METADATA_FILE) as connection:  # as an older Newsdesk wrote it
        connection.execute("ALTER TABLE sentences DROP COLUMN event_date")
    connection.close()
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["files"] = file_sizes(folder)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))

    with pytest.raises(IndexMismatchError, match="no event dates") as refused:
        Engine.load(settings.index_setup(), embedder=seed_engine.embedder)
    assert refused.value.remedy == "update"
    said: list[str] = []
    engine = Engine.load(
        settings.index_setup(),
        build_missing=True,
        on_build=said.append,
        embedder=seed_engine.embedder,
    )
    assert said[0].startswith("The index has no event dates")
    assert engine.store.metadata.has_event_dates
    engine.store.close()
