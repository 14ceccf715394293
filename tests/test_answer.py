"""The answering core on the seed article, with the real model and index."""

from __future__ import annotations

import json

import pytest

from bot.engine import Engine
from bot.text_render import mark_text, render_answer
from index.analysis.entities import Entity
from index.answering.question import parse_question
from index.answering.results import MORE
from index.answering.spans import short_answer
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
    assert not answer.found and answer.short_answer is None
    assert answer.confidence < engine.answer_model.answer_threshold
    assert render_answer(answer, colour=False).startswith("I couldn't find that in the articles.")


def test_answer_has_source_context_and_more(engine: Engine) -> None:
    answer = engine.ask("Who said the final battle could take hours or days?")
    assert answer.source is not None
    assert answer.source.line() == (
        "All Syrian IS fighters leave Raqa: monitor, 2017-10-15, events of 2017-10-14, paragraph 2"
    )  # "said on Saturday" in a story of Sunday 15 October
    assert answer.source.path == "raqqa-2017-10-15.txt"
    assert answer.sentence in answer.context
    assert 3 <= len(answer.more) <= MORE
    assert all(hit.sentence != answer.sentence for hit in answer.more)
    assert mark_text(answer.sentence, answer.marks, colour=False).startswith("**Mustafa Bali**,")


def test_answer_sentence_is_chosen_across_passages(engine: Engine) -> None:
    # "how many" is in every sentence's reach; the model reads the question's content words.
    answer = engine.ask("How many civilians left?")
    assert "1,500" in answer.sentence
    assert answer.short_answer == "Around 1,500"


@pytest.mark.parametrize(
    ("question", "short", "label"),
    [
        ("Who posted on Facebook about the liberation of Raqqa?", "Armen Petrosyan", "PERSON"),
        ("How many Daesh fighters did the elders persuade to surrender?", "100", "CARDINAL"),
    ],
)
def test_short_answer_is_an_entity_of_the_wanted_type(
    engine: Engine, question: str, short: str, label: str
) -> None:
    answer = engine.ask(question)
    assert answer.found and answer.short_answer is not None
    assert short in answer.short_answer
    [mark] = answer.marks
    record = next(
        s
        for s in engine.store.metadata.passages_with_sentences(
            list(range(engine.store.passage_count))
        ).values()
        for s in s[1]
        if s.text == answer.sentence
    )
    assert any(
        (e.start, e.end, e.label) == (mark.start, mark.end, label) for e in record.entities
    ), record.entities


def test_an_untagged_acronym_answers_which_militia(engine: Engine) -> None:
    # The tagger leaves "YPG" out; "Kurdish" (a nationality) is only a partial match.
    answer = engine.ask("Which militia dominates the SDF?")
    assert answer.found and answer.short_answer == "YPG"


def test_short_answer_never_repeats_the_question(engine: Engine) -> None:
    # The sentence names Raqqa and the SDF; asked about them, neither is the answer.
    answer = engine.ask("Which militia dominates the SDF in Raqqa?")
    assert answer.short_answer not in {"SDF", "Raqqa"}


def test_what_did_x_say_gets_the_statement(engine: Engine) -> None:
    answer = engine.ask("What did Coalition spokesman Ryan Dillon say?")
    assert answer.found and answer.short_answer is not None
    assert "monitored and tracked" in answer.short_answer


def test_who_is_x_gets_the_role(engine: Engine) -> None:
    answer = engine.ask("Who is Omar Alloush?")
    assert answer.found and answer.short_answer == "a member of the Raqqa Civil Council"


def test_an_unanswerable_question_on_an_indexed_topic_is_declined(engine: Engine) -> None:
    answer = engine.ask("How much money did the coalition spend on airstrikes in Raqqa?")
    assert not answer.found and answer.short_answer is None
    assert answer.sentence  # the closest passage is still shown, labelled as such


def test_empty_and_hostile_questions_do_not_raise(engine: Engine) -> None:
    for question in ["", "   ", "<b>&</i>", "\x00\u202e😀" * 50, "x" * 10_000]:
        answer = engine.ask(question)
        # The question comes back as it was read: without control characters.
        assert answer.question == question.replace("\x00", "")
        assert not answer.found or answer.sentence


def test_the_short_answer_says_how_it_fits_the_question() -> None:
    sentence = "Up to 1,800 workers will lose their jobs, and 3 plants close on 9 April."
    entities = (Entity("CARDINAL", 6, 11), Entity("CARDINAL", 46, 47), Entity("DATE", 64, 71))
    counted = short_answer(
        parse_question("How many workers will lose their jobs?"), sentence, entities
    )
    assert counted is not None and counted.text == "Up to 1,800"
    assert (counted.tier, counted.counted) == (0, 1.0)
    assert counted.context > 0
    # Nothing of a full label: the date is only a partial answer to "how many", and says so.
    partial = short_answer(
        parse_question("How many staff were hired?"), sentence, (Entity("DATE", 64, 71),)
    )
    assert partial is not None and partial.text == "9 April"
    assert partial.tier == 2 and partial.counted == 0.0
