"""The Telegram renderer and the bot's bookkeeping (access, rate limit, answer cache)."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import replace

from bot.telegram.access import Access, QuestionLimiter, RefusalMemory, Verdict
from bot.telegram.answers import AnswerCache
from bot.telegram.redact import SecretRedactingFilter
from bot.telegram.render import (
    MAX_MESSAGE_CHARS,
    bold_html,
    html_pieces,
    render_answer,
    render_context,
    render_more,
    telegram_length,
)
from bot.text_render import render_answer as render_text
from index.answering.results import Answer, Mark, MoreHit, Source
from workshop.fake_telegram.rules import html_problem

SOURCE = Source("Tom & Jerry <i>daily", "2017-10-15", 2, "seeds/a.txt")


def answer(
    sentence: str, marks: tuple[Mark, ...], *, found: bool = True, context: str = ""
) -> Answer:
    return Answer(
        question="q?", found=found, sentence=sentence, short_answer=None, marks=marks,
        context=context or sentence, source=SOURCE, confidence=0.9, question_type="who",
        more=(MoreHit("Another <b> & line.", "ctx", SOURCE, 0.5),),
    )  # fmt: skip


def test_marks_are_bold_and_everything_else_escaped() -> None:
    sentence = "Mustafa Bali said <b>x</b> & </i> more."
    [message] = render_answer(answer(sentence, (Mark(0, 12),)))
    assert message == (
        "<b>Mustafa Bali</b> said &lt;b&gt;x&lt;/b&gt; &amp; &lt;/i&gt; more.\n\n"
        "— Tom &amp; Jerry &lt;i&gt;daily, 2017-10-15, paragraph 2"
    )
    assert html_problem(message) is None


def test_declined_answer_is_labelled_and_not_bold() -> None:
    [message] = render_answer(answer("Close but no.", (Mark(0, 5),), found=False))
    assert message.startswith("I couldn't find that in the articles.\n\nThe closest passage")
    assert "<b>" not in message


def test_overlapping_and_out_of_range_marks_stay_balanced() -> None:
    text = bold_html("abcdef", (Mark(0, 3), Mark(2, 5), Mark(4, 99)))
    assert text == "<b>abc</b><b>de</b><b>f</b>"


def test_long_text_is_split_between_sentences_under_the_limit() -> None:
    sentences = [f"Sentence {n} has <tags> & ampersands in it." for n in range(400)]
    passage = " ".join(sentences)
    marks = (Mark(0, len("Sentence 200 has")),)  # offsets into the answer sentence
    messages = render_context(answer(sentences[200], marks, context=passage))
    assert len(messages) >= 4
    for message in messages:
        assert len(message) <= MAX_MESSAGE_CHARS and html_problem(message) is None
    for message in messages[:-1]:
        assert message.endswith("in it.")
    joined = " ".join(messages)
    assert "<b>Sentence 200 has</b>" in joined
    assert re.sub(r"</?b>", "", joined).count("&amp; ampersands") == 400


def test_a_sentence_longer_than_a_message_is_cut_between_words() -> None:
    sentence = " ".join(["&&&&&"] * 1000) + "."  # 25,000 characters once escaped
    pieces = html_pieces(sentence, (Mark(0, 4000),))
    assert all(len(piece) <= MAX_MESSAGE_CHARS and html_problem(piece) is None for piece in pieces)
    assert "".join(pieces).replace("<b>", "").replace("</b>", "") == sentence.replace("&", "&amp;")
    messages = render_answer(answer(sentence, ()))
    assert len(messages) > 5 and all(len(m) <= MAX_MESSAGE_CHARS for m in messages)
    one_word = html_pieces("x" * 10_000)
    assert [len(p) for p in one_word] == [2500, 2500, 2500, 2500]


def test_messages_are_measured_as_telegram_counts_them() -> None:
    """Emoji are two UTF-16 code units each: 3,000 of them are 6,000 to Telegram."""
    sentences = [f"Fans sent {'🎉' * 30} to the club." for _ in range(100)]
    messages = render_context(answer(sentences[0], (), context=" ".join(sentences)))
    assert len(messages) >= 2
    assert all(telegram_length(m) <= MAX_MESSAGE_CHARS for m in messages)
    assert telegram_length("🎉a") == 3


def test_more_lists_the_next_hits_escaped() -> None:
    [message] = render_more(answer("A.", ()).more)
    assert message == (
        "1. Another &lt;b&gt; &amp; line.\n"
        "— Tom &amp; Jerry &lt;i&gt;daily, 2017-10-15, paragraph 2"
    )
    assert render_more(()) == ["No further passages."]


def test_access_lists_and_admins() -> None:
    open_bot = Access()
    assert open_bot.allows(5, 5) and not open_bot.is_admin(5)
    private = Access(frozenset({1}), frozenset(), frozenset({9}))
    assert private.allows(1, 1) and private.allows(9, 9) and not private.allows(2, 2)
    assert not private.allows(None, 1)
    group_only = Access(frozenset(), frozenset({-100}), frozenset())
    assert group_only.allows(2, -100) and not group_only.allows(2, 2)


def test_rate_limit_warns_once_then_frees_up() -> None:
    limiter = QuestionLimiter(per_minute=2)
    verdicts = [limiter.check(7, now=t) for t in (0, 1, 2, 3, 4)]
    assert verdicts == [Verdict.ASK, Verdict.ASK, Verdict.WARN, Verdict.QUIET, Verdict.QUIET]
    assert limiter.check(8, now=4) is Verdict.ASK  # per user
    assert limiter.seconds_until_free(7, now=30) == 30
    assert limiter.check(7, now=60) is Verdict.ASK
    assert limiter.check(7, now=61) is Verdict.ASK
    assert limiter.check(7, now=62) is Verdict.WARN  # a new window may warn again


def test_refusals_are_said_once_per_hour() -> None:
    memory = RefusalMemory()
    assert memory.should_refuse(1, 1, now=0)
    assert not memory.should_refuse(1, 1, now=10)
    assert memory.should_refuse(2, 2, now=10)
    assert memory.should_refuse(1, 1, now=3600)


def test_answer_cache_checks_chat_age_and_id_shape() -> None:
    cache = AnswerCache(max_answers=2, max_age_seconds=100)
    first = cache.store(1, answer("A.", ()), now=0)
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", first)
    assert cache.find(first, 1, now=1) is not None
    assert cache.find(first, 2, now=1) is None  # another chat
    assert cache.find("../etc/passwd", 1, now=1) is None
    assert cache.find(first, 1, now=101) is None  # expired
    ids = [cache.store(1, answer("B.", ()), now=0) for _ in range(3)]
    assert len(cache) == 2 and cache.find(ids[0], 1, now=1) is None


def test_answer_cache_finds_an_answer_by_the_message_it_was_sent_in() -> None:
    cache = AnswerCache(max_answers=2, max_age_seconds=100)
    answer_id = cache.store(1, answer("A.", ()), now=0)
    cache.link(answer_id, 1, 77)
    found = cache.find_by_message(1, 77, now=1)
    assert found is not None and found.sentence == "A."
    assert cache.find_by_message(2, 77, now=1) is None  # the same message id in another chat
    assert cache.find_by_message(1, 78, now=1) is None
    for message_id in range(100, 120):  # links are bounded (4 per answer held), oldest first
        cache.link(answer_id, 1, message_id)
    assert cache.find_by_message(1, 77, now=1) is None
    assert cache.find_by_message(1, 119, now=1) is not None
    assert cache.find_by_message(1, 119, now=101) is None  # the answer expired


def test_redaction_covers_messages_arguments_and_tracebacks() -> None:
    redactor = SecretRedactingFilter(["123456:SECRETSECRET", "SECRETSECRET"])
    url = "/bot123456:SECRETSECRET/getMe"
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "GET %s", (url,), None)
    assert redactor.filter(record) and record.getMessage() == "GET /bot[REDACTED]/getMe"
    try:
        raise ValueError("token SECRETSECRET leaked")
    except ValueError:
        failing = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    redactor.filter(failing)
    assert failing.exc_text and "[REDACTED]" in failing.exc_text
    assert "SECRETSECRET" not in failing.exc_text


def test_the_source_line_gives_the_story_address_when_there_is_one() -> None:
    linked = replace(SOURCE, url="https://example.org/story?a=1&b=2")
    shown = replace(answer("Ann Lee opened it.", ()), source=linked)
    messages = render_answer(shown)
    assert any("https://example.org/story?a=1&amp;b=2" in m for m in messages)
    assert "https://example.org/story?a=1&b=2" in render_text(shown, colour=False)
    assert "https://" not in render_text(answer("Ann Lee opened it.", ()), colour=False)
