"""An ``Answer`` as terminal text: ANSI bold and colour on a terminal, ``**marks**`` elsewhere."""

from __future__ import annotations

from collections.abc import Sequence

from index.answering.quotes import Quote, speaker_name
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
from index.corpus.articles import printable

_BOLD, _DIM, _CYAN, _YELLOW, _RESET = "\033[1m", "\033[2m", "\033[36m", "\033[33m", "\033[0m"


def mark_text(text: str, marks: tuple[Mark, ...], colour: bool) -> str:
    """``text`` with each mark bold (terminal) or between ``**`` (plain)."""
    opening, closing = (_BOLD + _YELLOW, _RESET) if colour else ("**", "**")
    pieces, position = [], 0
    for mark in sorted(marks, key=lambda m: m.start):
        if mark.start < position:
            continue
        pieces += [text[position : mark.start], opening, text[mark.start : mark.end], closing]
        position = mark.end
    pieces.append(text[position:])
    return "".join(pieces)


def render_answer(answer: Answer, *, colour: bool) -> str:
    """The answer sentence first, then its source; a declined answer says so first."""
    if answer.refusal_text is not None:
        return answer.refusal_text
    if answer.source is None:
        return answer.not_found_line()
    dim, reset = (_DIM, _RESET) if colour else ("", "")
    # Titles and sentences were cleaned when read; a file name can still hold anything.
    where = printable(answer.source.path)
    if answer.source.url:  # where a reader can open the story itself
        where += f", {printable(answer.source.url)}"
    source = f"{dim}— {answer.source.line()} ({where}){reset}"
    source += also_line(answer.also_in, dim, reset, indent="")
    if not answer.found:
        return f"{NOT_FOUND}\n{CLOSEST_LABEL}\n  {answer.sentence}\n{source}"
    return f"{mark_text(answer.sentence, answer.marks, colour)}\n{source}"


def also_line(sources: tuple[Source, ...], dim: str, reset: str, indent: str) -> str:
    """A line naming the other articles that tell the same sentence; empty when none do."""
    if not sources:
        return ""
    named = "; ".join(printable(source.short()) for source in sources)
    return f"\n{indent}{dim}  {ALSO_IN}: {named}{reset}"


def render_more(hits: tuple[MoreHit, ...], *, colour: bool, first: int = 1) -> str:
    """Further passages numbered from ``first``, or that there are no more."""
    if not hits:
        return NO_MORE
    cyan, dim, reset = (_CYAN, _DIM, _RESET) if colour else ("", "", "")
    return "\n".join(
        f"{cyan}{number}.{reset} {hit.sentence}\n   {dim}— {hit.source.line()}{reset}"
        + also_line(hit.also_in, dim, reset, indent=" ")
        for number, hit in enumerate(hits, start=first)
    )


def no_quotes(name: str) -> str:
    return f"No statements by {speaker_name(name)} in these articles."


def quote_lines(name: str, quotes: Sequence[Quote], limit: int | None = None) -> list[str]:
    """Each statement as '"words" (speaker, role; verb)' and its source, newest first; at most
    ``limit`` of them, with a last line counting the rest. ``name`` is shown as typed, cleaned
    (``speaker_name``): it may hold anything."""
    if not quotes:
        return [no_quotes(name)]
    shown = quotes if limit is None else quotes[:limit]
    lines = [f"{len(quotes)} statement(s) by {speaker_name(name)}, newest first:"]
    for number, quote in enumerate(shown, start=1):
        who = ", ".join(part for part in (quote.speaker, quote.role) if part)
        lines.append(f"{number}. “{quote.statement}” ({who}; {quote.verb})")
        lines.append(f"   — {quote.source.line()}")
    if len(quotes) > len(shown):
        lines.append(f"… and {len(quotes) - len(shown)} more.")
    return lines
