"""Library errors carry a remedy; the front ends word it in their own commands."""

from __future__ import annotations

from bot.reports import NEWEST_SHOWN, REMEDIES, describe_error, newest_first
from index.errors import IndexCorruptError, IndexMissingError, NewsdeskError, Remedy


def test_every_remedy_has_words() -> None:
    assert set(REMEDIES) == set(Remedy)


def test_an_error_is_one_line_with_its_remedy() -> None:
    missing = IndexMissingError("no index in var/index yet")
    assert describe_error(missing) == (
        "no index in var/index yet; build it with: newsdesk index build"
    )
    encoder = IndexCorruptError("query encoder x is missing", remedy=Remedy.UPDATE)
    assert describe_error(encoder).endswith("update it with: newsdesk index build")
    assert describe_error(NewsdeskError("no articles")) == "no articles"


def test_listings_show_the_newest_twenty_then_say_how_to_see_the_rest() -> None:
    rows = [
        (f"2017-10-{day:02d}", f"Story {day} f{day}.txt", f"  Story {day}") for day in range(1, 31)
    ]
    rows.append((None, "Undated u.txt", "  Undated"))
    lines = newest_first(rows, more_hint=":sources all")
    assert lines[0] == "  Story 30" and lines[NEWEST_SHOWN - 1] == "  Story 11"
    assert lines[-1].startswith("    ... and 11 older: :sources all lists every one")
    everything = newest_first(rows, show_all=True)
    assert len(everything) == 31 and everything[-1] == "  Undated"
    assert newest_first(rows, match="story 2") == [
        f"  Story {d}" for d in (29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 2)
    ]
    assert "no article's title or file holds" in newest_first(rows, match="raqqa")[-1]
