"""Byline dates in the forms and languages news sites write them, and non-dates left alone."""

from __future__ import annotations

import pytest

from index.corpus.dates import find_byline_date, parse_date


@pytest.mark.parametrize(
    ("byline", "iso"),
    [
        ("Posted Octubre 15, 2017", "2017-10-15"),
        ("Posted October 15, 2017 by Jane Doe", "2017-10-15"),
        ("15 October 2017", "2017-10-15"),
        ("Publié le 3 mars 2021", "2021-03-03"),
        ("Gepostet am 3. März 2021", "2021-03-03"),
        ("Опубликовано 3 марта 2021", "2021-03-03"),
        ("2021年3月3日", "2021-03-03"),
        ("15.10.2017", "2017-10-15"),
        ("2017-10-15", "2017-10-15"),
        ("Posted 10/15/2017", "2017-10-15"),
    ],
)
def test_bylines(byline: str, iso: str) -> None:
    assert find_byline_date(byline) == iso


@pytest.mark.parametrize(
    "block",
    [
        "Council item 2001 was approved.",
        "Yesterday the council met.",
        "On Saturday, October 14, the convoy left.",  # no year: not a complete date
        "The city fell in 2017 after a long siege, " * 3,  # too long to be a byline
        "",
    ],
)
def test_non_bylines(block: str) -> None:
    assert find_byline_date(block) is None


def test_parse_date_reads_any_format() -> None:
    assert parse_date("2017-10-15T08:30:00Z") == "2017-10-15"
    assert parse_date("15 octobre 2017") == "2017-10-15"
    assert parse_date("not a date") is None
