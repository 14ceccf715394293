"""Library errors carry a remedy; the front ends word it in their own commands."""

from __future__ import annotations

from bot.reports import REMEDIES, describe_error
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
