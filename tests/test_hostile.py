"""Hostile input: any text through the answering core and the Telegram renderer, and forged
button data through the real bot.

Properties (hypothesis): asking never raises, and every message the renderer produces is at
most 4,096 characters of HTML Telegram accepts (only its tags, balanced, every ``<``, ``>`` and
``&`` of the text escaped). The HTML is checked here with ``html.parser``, independently of the
fake Bot API's own regular-expression check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.render import (
    MAX_MESSAGE_CHARS,
    render_answer,
    render_context,
    render_lines,
    render_more,
)
from bot.telegram.replies import EXPIRED, sources_lines
from index.answering.results import Answer, Mark, MoreHit, Source
from index.corpus.articles import printable_name
from index.storage.metadata import ArticleRecord
from tests.conftest import bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

QUESTION = "Who said the final battle could take hours or days?"
ALICE, BOB = 3001, 3002

# Telegram's HTML tags (https://core.telegram.org/bots/api#html-style), with their attributes.
TELEGRAM_TAGS: dict[str, set[str]] = {
    **{tag: set() for tag in ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del")},
    **{tag: set() for tag in ("tg-spoiler", "pre")},
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "tg-emoji": {"emoji-id"},
    "blockquote": {"expandable"},
}
# The only entities Telegram reads: four named ones and numeric ones.
_ENTITY_OR_AMPERSAND = re.compile(r"&(?:lt;|gt;|amp;|quot;|#[0-9]+;|#x[0-9A-Fa-f]+;)?")

# Pieces of text that have broken renderers and parsers elsewhere.
NASTY = [
    "\x00", "\x1b[31m", "\x7f", "\r\n", "\t", "\u202e", "\u200f", "\u200b", "\ufeff", "\u2028",
    "😀", "👩‍👩‍👧", "🇺🇦", "e\u0301", "مرحبا", "שלום", "<b>", "</b>", "<i>", "</i>", "<pre>",
    "<script>alert(1)</script>", '<a href="tg://user?id=1">', "</a>", "<br/>", "<!--", "-->",
    "&", "&amp;", "&amp", "&lt;", "&#0;", "&#x110000;", "&nbsp;", "**bold**", "__it__", "`code`",
    "```\npre\n```", "[link](http://example.org)", "||spoiler||", "~strike~", "\\", ". ", "? ",
    "…", "  ", "\n\n",
]  # fmt: skip

hostile_text = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=12)), max_size=80).map("".join),
)


class TelegramHTMLChecker(HTMLParser):
    """Collects why Telegram's HTML parser would reject a message, if it would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag <{tag}> is not Telegram's")
        elif any(name not in TELEGRAM_TAGS[tag] for name, _ in attrs):
            self.problems.append(f"<{tag}> has an attribute Telegram does not take")
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags.pop() != tag:
            self.problems.append(f"</{tag}> closes nothing open")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append(f"unescaped < or > in {data[:40]!r}")

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("a marked section")


def telegram_html_problems(text: str) -> list[str]:
    """Why Telegram would reject ``text`` as an HTML message; empty when it would accept it."""
    problems = [
        f"bare & at {match.start()}"
        for match in _ENTITY_OR_AMPERSAND.finditer(text)
        if match.group() == "&"
    ]
    checker = TelegramHTMLChecker()
    checker.feed(text)
    checker.close()
    problems += checker.problems
    if checker.rawdata:  # html.parser keeps what it could not parse, e.g. a lone "<"
        problems.append(f"unparsed rest {checker.rawdata[:40]!r}")
    problems += [f"<{tag}> is never closed" for tag in checker.open_tags]
    return problems


def assert_sendable(messages: Sequence[str]) -> None:
    assert messages, "nothing to send"
    for message in messages:
        assert message.strip()
        assert len(message) <= MAX_MESSAGE_CHARS
        assert telegram_html_problems(message) == [], message[:200]


def test_the_checker_rejects_what_telegram_rejects() -> None:
    assert telegram_html_problems("<b>a &amp; b</b> &lt;c&gt; &#128512;") == []
    for bad in ("<b>x", "x</b>", "<p>x</p>", "a & b", "1 < 2", "2 > 1", "<br/>", "<!-- -->"):
        assert telegram_html_problems(bad), bad
    assert telegram_html_problems('<a href="x" onclick="y">z</a>')


@pytest.fixture(scope="module")
def engine(seed_engine: Engine) -> Engine:
    """The session's engine over the seed article."""
    return seed_engine


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(question=hostile_text)
@example(question="")
@example(question=" " * 300)
@example(question="\x00" * 64)
@example(question="x" * 10_000)
@example(question=(QUESTION + " ") * 190)
@example(question="<b>Who</i> said & the final battle could take **hours** or days?")
@example(question="\u202e" + QUESTION + "\u200f 😀")
def test_any_question_is_answered_with_sendable_messages(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert_sendable(render_answer(answer))
    assert_sendable(render_context(answer))
    assert_sendable(render_more(answer.more))


def answers(text: st.SearchStrategy[str]) -> st.SearchStrategy[Answer]:
    """Answers whose every text field (and marks) is hostile: the renderer must cope alone."""

    @st.composite
    def build(draw: st.DrawFn) -> Answer:
        sentence = draw(text)
        before, after = draw(text), draw(text)
        bounds = st.integers(min_value=-5, max_value=len(sentence) + 5)
        marks = draw(st.lists(st.builds(Mark, bounds, bounds), max_size=6))
        source = Source(draw(text), draw(st.none() | text), draw(st.integers(1, 99)), draw(text))
        more = draw(
            st.lists(st.builds(MoreHit, text, text, st.just(source), st.floats(0, 1)), max_size=3)
        )
        return Answer(
            question=draw(text),
            found=draw(st.booleans()),
            sentence=sentence,
            short_answer=None,
            marks=tuple(marks),
            context=f"{before} {sentence} {after}",
            source=draw(st.none() | st.just(source)),
            confidence=0.5,
            question_type="other",
            more=tuple(more),
        )

    return build()


# Long runs of characters HTML must escape: escaping grows them fivefold past the limit.
long_text = st.one_of(
    hostile_text,
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["&", "<", "a", "😀", "a. "]),
        st.integers(1, 5000),
    ),
)


@settings(max_examples=150, deadline=None)
@given(answer=answers(long_text))
@example(
    answer=Answer(
        "q", True, "&" * 4000, None, (Mark(0, 4000),), "&" * 4000,
        Source("<t>", None, 1, "p"), 1.0, "other",
    )
)  # fmt: skip
def test_renderer_makes_sendable_html_of_any_answer(answer: Answer) -> None:
    assert_sendable(render_answer(answer))
    assert_sendable(render_context(answer))
    assert_sendable(render_more(answer.more))


@settings(max_examples=60, deadline=None)
@given(titles=st.lists(long_text, min_size=1, max_size=5), dates=st.lists(hostile_text, max_size=5))
def test_lines_of_hostile_titles_are_sendable(titles: list[str], dates: list[str]) -> None:
    articles = [
        ArticleRecord(f"k{n}", title, dates[n] if n < len(dates) else None, "p", None)
        for n, title in enumerate(titles)
    ]
    assert_sendable(render_lines(sources_lines(articles)))


# What a terminal acts on, or reads a name as another by: no file name may print one raw.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@settings(max_examples=300, deadline=None)
@given(name=st.one_of(hostile_text, st.binary(max_size=60).map(os.fsdecode)))
@example(name="\x1b]0;pwned\x07\x1b[2Jnotes.txt")
def test_any_file_name_prints_as_one_safe_line(name: str) -> None:
    shown = printable_name(name)
    assert not _TERMINAL_UNSAFE.search(shown)
    shown.encode("utf-8")  # no lone surrogate (a name that is not UTF-8) reaches the terminal
    if not _TERMINAL_UNSAFE.search(name) and name.isprintable():
        assert shown == name  # an ordinary name, of any script, is shown as it is


def test_forged_callback_data_gets_nothing_from_the_articles(
    api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    """Another chat's answer, garbage, over 64 bytes: each press only hears "expired"."""
    # Every press counts against the rate limit now; this test is about what a press reveals.
    unlimited = bot_settings_for(api, engine, rate_limit_per_minute=10_000)
    with serving(build_application(unlimited, engine)):
        api.push_message(QUESTION, chat_id=ALICE)
        [answer] = api.wait_for_messages(ALICE, 1)
        markup = api.markup_of(api.calls_to("sendMessage", ALICE)[0])
        assert markup is not None
        alice_data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        alice_message = api.last_message_id(ALICE)
        presses = 0

        def press(data: str, message_id: int) -> None:
            nonlocal presses
            api.push_callback(data, message_id=message_id, chat_id=BOB, user_id=BOB)
            presses += 1
            api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= presses)

        for data in alice_data:  # Alice's real buttons, pressed in Bob's chat
            press(data, alice_message)
        answer_id = alice_data[0].partition(":")[2]
        for data in (
            "",
            "more:",
            f"more:{answer_id}" + "A" * 80,  # over 64 bytes, Alice's id as its prefix
            f"context:{answer_id[:-1]}",
            f"context:{answer_id}\n",
            f"more:{answer_id} ",
            "more:" + "\x00" * 8,
            "context:" + "😀" * 20,
            "x" * 4096,
        ):
            press(data, alice_message)

        @settings(max_examples=25, deadline=None)
        @given(data=st.one_of(st.text(max_size=120), st.binary(max_size=80).map(repr)))
        def garbage(data: str) -> None:
            press(data, api.last_message_id(ALICE))

        garbage()
        api.wait_for(lambda: True, settle=0.3)
    assert api.sent_texts(BOB) == []
    assert len(api.sent_texts(ALICE)) == 1 and "Mustafa Bali" in answer
    replies = [call.params.get("text") for call in api.calls_to("answerCallbackQuery")]
    assert len(replies) == presses and set(replies) == {EXPIRED}
