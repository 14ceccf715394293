"""What each chat remembers for follow-up questions: its last answered turn, for a while.

One small entry per chat (a Telegram chat id, the console's session), dropped after
``FOLLOW_UP_MINUTES`` or by ``/new`` and ``:new``; the oldest chats go first once ``max_chats``
are held, so the memory stays bounded however many people write. The clock is injected, so
tests move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from index.answering.followup import Turn, follow_up
from index.answering.results import Answer

MAX_CHATS = 10_000
DEFAULT_MINUTES = 15.0  # FOLLOW_UP_MINUTES unless set


def turn_of(answer: Answer) -> Turn:
    """The turn a follow-up may lean on; a declined answer keeps its closest sentence (the
    reader saw it) but no short answer."""
    source = answer.source
    return Turn(
        question=answer.question,
        sentence=answer.sentence,
        short_answer=answer.short_answer if answer.found else None,
        answer_type=answer.question_type,
        title=source.title if source else "",
        key=source.key if source else "",
        speaker=getattr(answer, "speaker", None),  # set where answers name who said it
    )


@dataclass(frozen=True)
class Reading:
    """How a question is asked: as typed, or rewritten to stand on its own."""

    asked: str
    rewritten: bool


def read_question(previous: Turn | None, question: str) -> Reading:
    """``question`` as the engine should get it, after ``previous`` (None: nothing remembered)."""
    rewritten = follow_up(previous, question)
    return Reading(rewritten, True) if rewritten else Reading(question, False)


class Conversations:
    """The last turn of each chat, forgotten after ``minutes`` (0: follow-ups are off)."""

    def __init__(
        self,
        minutes: float = DEFAULT_MINUTES,
        max_chats: int = MAX_CHATS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_seconds = minutes * 60.0
        self.max_chats = max_chats
        self.clock = clock
        self._turns: OrderedDict[Hashable, tuple[Turn, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._turns)

    def previous(self, chat: Hashable) -> Turn | None:
        """The chat's last turn if it is fresh; a stale one is dropped."""
        entry = self._turns.get(chat)
        if entry is None:
            return None
        turn, at = entry
        if self.clock() - at > self.max_age_seconds:
            del self._turns[chat]
            return None
        return turn

    def remember(self, chat: Hashable, turn: Turn) -> None:
        if self.max_age_seconds <= 0:
            return
        self._turns[chat] = (turn, self.clock())
        self._turns.move_to_end(chat)
        while len(self._turns) > self.max_chats:
            self._turns.popitem(last=False)

    def forget(self, chat: Hashable) -> bool:
        """Drop the chat's memory (``/new``); whether there was anything to forget."""
        return self._turns.pop(chat, None) is not None
