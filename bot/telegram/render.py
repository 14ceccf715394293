"""``Answer`` -> Telegram HTML messages.

Everything that comes from articles or users goes through ``html.escape``; the only markup the
bot adds is ``<b>`` around the marked spans. Telegram rejects messages over 4,096 characters, so
long texts are cut at sentence boundaries (then at spaces, then anywhere) into several messages,
each with balanced tags because every piece is escaped and marked on its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from index.answering.results import (
    ALSO_IN,
    CLOSEST_LABEL,
    NO_MORE,
    NOT_FOUND,
    Answer,
    Mark,
    MoreHit,
    Source,
)

MAX_MESSAGE_CHARS = 4096
# A title or date longer than this (a title that is really a whole first paragraph) is cut
# with "…", so that the source line, escaped, always fits in a message beside the answer.
MAX_TITLE_CHARS = 200
MAX_DATE_CHARS = 40

# A sentence ends after . ! ? or … (and any closing quotes or brackets), before whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_WORD_END = re.compile(r"\s+")


def escape(text: str) -> str:
    """Escape ``<``, ``>`` and ``&``: all Telegram needs outside attributes, and readable."""
    return html.escape(text, quote=False)


def bold_html(text: str, marks: Sequence[Mark] = ()) -> str:
    """``text`` escaped, with each mark (offsets into ``text``) in ``<b>``; overlaps are skipped."""
    pieces, position = [], 0
    for mark in sorted(marks, key=lambda m: m.start):
        start, end = max(mark.start, position), min(mark.end, len(text))
        if start >= end:
            continue
        pieces += [escape(text[position:start]), "<b>", escape(text[start:end]), "</b>"]
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)


def _clip(marks: Sequence[Mark], start: int, end: int) -> list[Mark]:
    """The marks that fall in ``text[start:end]``, shifted to offsets into that slice."""
    return [
        Mark(max(m.start, start) - start, min(m.end, end) - start)
        for m in marks
        if m.start < end and m.end > start
    ]


def _spans(text: str, boundary: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after each match of ``boundary`` (the whitespace stays left)."""
    spans, position = [], start
    for match in boundary.finditer(text, start, end):
        if match.end() > position:
            spans.append((position, match.end()))
            position = match.end()
    if position < end:
        spans.append((position, end))
    return spans


def telegram_length(text: str) -> int:
    """A message's length as Telegram counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def html_pieces(text: str, marks: Sequence[Mark] = (), limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """``text`` as HTML pieces of at most ``limit`` (``telegram_length``) each, cut between
    sentences.

    A sentence too long for one message is cut between words, and a word too long between
    characters; escaping can grow text up to six times, which is why lengths are measured
    after rendering.
    """
    pieces: list[str] = []

    def add(start: int, end: int, level: int) -> None:
        rendered = bold_html(text[start:end], _clip(marks, start, end))
        if telegram_length(rendered) <= limit:
            pieces.append(rendered)
        elif level == 0:
            for part in _spans(text, _WORD_END, start, end):
                add(*part, level=1)
        elif level == 1 and end - start > 1:
            middle = start + (end - start) // 2
            add(start, middle, level=1)
            add(middle, end, level=1)
        else:  # a single character cannot be over the limit; kept for safety
            pieces.append(rendered[:limit])

    for span in _spans(text, _SENTENCE_END, 0, len(text)):
        add(*span, level=0)
    return pieces


def pack_messages(pieces: Iterable[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Join HTML pieces (each at most ``limit`` long) greedily into as few messages as fit."""
    messages: list[str] = []
    current = ""
    for piece in pieces:
        if current and telegram_length(current) + telegram_length(piece) > limit:
            messages.append(current)
            current = ""
        current += piece
    if current.strip():
        messages.append(current)
    cleaned = [message.strip() for message in messages]
    return [message for message in cleaned if message]


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


MAX_URL_CHARS = 300  # a longer address is noise in a chat; ask --json still has it


def source_line(source: Source) -> str:
    """ "— Title, date, paragraph N", escaped, and short enough to share a message."""
    short = replace(
        source,
        title=shorten(source.title, MAX_TITLE_CHARS),
        date=shorten(source.date, MAX_DATE_CHARS) if source.date else source.date,
    )
    line = "— " + escape(short.line())
    if source.url and len(source.url) <= MAX_URL_CHARS:  # the story itself, one tap away
        line += "\n" + escape(source.url)
    return line


def also_line(sources: Sequence[Source]) -> list[str]:
    """ "also in: Title (date); ..." as pieces, each article name escaped and shortened."""
    if not sources:
        return []
    named = "; ".join(escape(shorten(source.short(), MAX_TITLE_CHARS)) for source in sources)
    return ["\n", f"<i>{ALSO_IN}: {named}</i>"]


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The answer sentence with its short answer in bold, then the source line.

    A declined answer says so first and shows the closest sentence without bold, labelled, so a
    reader never mistakes it for an answer. A refused question (not in English) says why.
    """
    if answer.refusal_text is not None:
        return [escape(answer.refusal_text)]
    if answer.source is None:
        return [escape(answer.not_found_line() if answer.dates else NOT_FOUND)]
    if answer.found:
        body = html_pieces(answer.sentence, answer.marks, limit)
        pieces = [*body, "\n\n", source_line(answer.source), *also_line(answer.also_in)]
    else:
        body = html_pieces(answer.sentence, (), limit)
        pieces = [escape(NOT_FOUND), "\n\n", escape(CLOSEST_LABEL), "\n", *body]
        pieces += ["\n", source_line(answer.source), *also_line(answer.also_in)]
    return pack_messages(pieces, limit)


def context_marks(answer: Answer) -> tuple[Mark, ...]:
    """The answer's marks moved into the full passage, when the sentence is found in it."""
    if not answer.found:
        return ()
    offset = answer.context.find(answer.sentence)
    if offset < 0:
        return ()
    return tuple(Mark(m.start + offset, m.end + offset) for m in answer.marks)


def render_context(answer: Answer, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """The whole passage the answer came from, with its source line."""
    if answer.source is None or not answer.context:
        return ["No passage to show."]
    heading = [escape(CLOSEST_LABEL), "\n"] if not answer.found else []
    body = html_pieces(answer.context, context_marks(answer), limit)
    return pack_messages([*heading, *body, "\n\n", source_line(answer.source)], limit)


def render_more(
    hits: Sequence[MoreHit], limit: int = MAX_MESSAGE_CHARS, first: int = 1
) -> list[str]:
    """The next passages, numbered from ``first``, each with its source line."""
    if not hits:
        return [NO_MORE]
    pieces: list[str] = []
    for number, hit in enumerate(hits, start=first):
        pieces += [f"{number}. ", *html_pieces(hit.sentence, (), limit - 8)]
        pieces += ["\n", source_line(hit.source), *also_line(hit.also_in), "\n\n"]
    return pack_messages(pieces, limit)


def render_lines(lines: Iterable[str], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Plain-text lines escaped and packed into messages, cut between lines where possible."""
    pieces: list[str] = []
    for line in lines:
        pieces += [*html_pieces(line, (), limit), "\n"]
    return pack_messages(pieces, limit)
