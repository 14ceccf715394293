"""A question's time words: read into a range or an order, and applied to the seed index."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bot.engine import Engine
from bot.text_render import render_answer
from index.answering.date_filter import DateRange, plan_dates, prefer_article
from index.answering.time_words import BadDateError, parse_day, read_time_words

NEWEST = date(1987, 3, 3)


@pytest.mark.parametrize(
    ("question", "since", "until", "text"),
    [
        (
            "On March 2, 1987, which engine makers did Qantas name?",
            date(1987, 3, 2),
            date(1987, 3, 2),
            "Which engine makers did Qantas name?",
        ),
        (
            "What did the Dutch port union agree to on 2 March 1987?",
            date(1987, 3, 2),
            date(1987, 3, 2),
            "What did the Dutch port union agree to?",
        ),
        (
            "What happened in Raqqa in October 2017?",  # a month inside stays in the words
            date(2017, 10, 1),
            date(2017, 10, 31),
            "What happened in Raqqa in October 2017?",
        ),
        (
            "In October 2017, how many fighters had ISIS housed?",  # a leading one leaves
            date(2017, 10, 1),
            date(2017, 10, 31),
            "How many fighters had ISIS housed?",
        ),
        ("What did Iraq say before March 1987?", None, date(1987, 2, 28), "What did Iraq say?"),
        ("What did Iraq say since 1 March?", date(1987, 3, 1), None, "What did Iraq say?"),
        (
            "What happened in Raqqa last week?",
            date(1987, 2, 24),
            NEWEST,
            "What happened in Raqqa last week?",
        ),
        # A bare year filters but stays in the words: sentences say "in 1987" too.
        (
            "What did Li Ka-shing predict for property in 1987?",
            date(1987, 1, 1),
            date(1987, 12, 31),
            "What did Li Ka-shing predict for property in 1987?",
        ),
    ],
)
def test_time_words_become_a_range(
    question: str, since: date | None, until: date | None, text: str
) -> None:
    words = read_time_words(question, NEWEST)
    assert (words.since, words.until) == (since, until)
    assert words.text == text


@pytest.mark.parametrize(
    "question",
    [
        "What was in the 1987 budget?",
        "When did the ICO talks founder in 1987?",  # the year is what is asked about
        "How many civilians reached SDF lines within the last week?",
        "What were Gelco's earnings for its year ended July 31, 1986?",
        "Who spoke on Today about abortion?",
        "What will the coupon be on bonds due in 1995 dollars?",
    ],
)
def test_words_that_are_the_question_are_no_filter(question: str) -> None:
    words = read_time_words(question, NEWEST)
    assert not words.has_range
    assert words.text == question


def test_latest_asks_for_the_newest_first() -> None:
    assert read_time_words("What is the latest on the Rotterdam port strike?").newest_first
    assert read_time_words("What is the most recent news from General Motors?").newest_first
    assert not read_time_words("What did General Motors say?").newest_first
    assert not read_time_words("What did analysts call BA's latest results?").newest_first
    assert not read_time_words("Whom did Parmalat sue in its latest move?").newest_first


def test_a_range_no_article_can_fall_in_is_the_subject_not_a_filter() -> None:
    span = ("1987-02-26", "1987-03-03")
    plan = plan_dates("How much did Alitalia lose in 2003?", span)
    assert plan.dates is None and plan.text == "How much did Alitalia lose in 2003?"
    kept = plan_dates("On March 2, 1987, what did Qantas say?", span)
    assert kept.dates == DateRange(date(1987, 3, 2), date(1987, 3, 2))
    given = plan_dates("What did Qantas say?", span, since=date(1987, 3, 1))
    assert given.dates == DateRange(date(1987, 3, 1), None, explicit=True)


def test_latest_puts_the_chosen_article_first_for_every_reader_of_the_best() -> None:
    probabilities = np.array([0.9, 0.6, 0.1])
    articles = ["older.txt", "newer.txt", "newer.txt"]
    order, swapped = prefer_article(np.array([0, 1, 2]), probabilities, articles, "newer.txt")
    assert order[0] == 1  # the newer story's best sentence, not its weakest
    assert swapped[1] == 0.9 and swapped[0] == 0.6
    unchanged, _ = prefer_article(np.array([0, 1, 2]), probabilities, articles, "older.txt")
    assert list(unchanged) == [0, 1, 2]


def test_people_write_dates_their_way_and_a_bad_one_is_said() -> None:
    assert parse_day("1987-03-01") == parse_day("1 March 1987") == parse_day("March 1, 1987")
    with pytest.raises(BadDateError, match="YYYY-MM-DD"):
        parse_day("1987-13-01")
    with pytest.raises(BadDateError):
        parse_day("soon")


def test_a_date_filter_in_a_question_on_the_seed_article(seed_engine: Engine) -> None:
    question = "In October 2017, how many fighters did US officials believe ISIS had housed?"
    answer = seed_engine.ask(question)
    assert answer.found and answer.source is not None
    assert "10,000" in answer.sentence
    assert answer.dates == "2017-10-01 to 2017-10-31"

    elsewhere = seed_engine.ask("In October 2016, how many fighters had ISIS housed?")
    assert elsewhere.dates is None  # no article from 2016: the words are the question's own

    later = seed_engine.ask("How many fighters had ISIS housed?", since=date(2017, 10, 16))
    assert later.source is None and not later.found
    assert render_answer(later, colour=False) == (
        "I couldn't find that in the articles dated 2017-10-16 onwards."
    )
    same_day = seed_engine.ask(
        "How many fighters had ISIS housed?", since=date(2017, 10, 15), until=date(2017, 10, 15)
    )
    assert same_day.source is not None and "10,000" in same_day.sentence
