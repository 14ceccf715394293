"""Recent answers kept on the server, so the "More" and "Context" buttons need no trust.

A button carries only a short random id; the answer itself, and the chat it was given in, stay
here. Ids are unguessable, the cache is bounded in size and age, and a lookup from another chat
finds nothing, so forged or stale callback data can never reveal anything. The messages an
answer was sent in are linked to it too, so that a reply to one of them is read as a follow-up
to that very answer.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from index.answering.results import MORE_PAGE, Answer, MoreHit

MAX_ANSWERS = 2000
MAX_AGE_SECONDS = 24 * 3600.0
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


@dataclass
class _Entry:
    chat_id: int
    answer: Answer
    stored_at: float
    more_shown: int = 0  # of ``answer.more``, by the "More" button so far


class AnswerCache:
    """Answers by random id, oldest dropped first once ``max_answers`` are held."""

    def __init__(
        self, max_answers: int = MAX_ANSWERS, max_age_seconds: float = MAX_AGE_SECONDS
    ) -> None:
        self.max_answers = max_answers
        self.max_age_seconds = max_age_seconds
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._messages: OrderedDict[tuple[int, int], str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, chat_id: int, answer: Answer, now: float | None = None) -> str:
        """Keep ``answer`` for ``chat_id``; returns its id (11 URL-safe characters)."""
        now = time.monotonic() if now is None else now
        answer_id = secrets.token_urlsafe(8)
        self._entries[answer_id] = _Entry(chat_id, answer, now)
        while len(self._entries) > self.max_answers:
            self._entries.popitem(last=False)
        return answer_id

    def link(self, answer_id: str, chat_id: int, message_id: int) -> None:
        """Remember that ``message_id`` in ``chat_id`` shows the answer ``answer_id``."""
        self._messages[(chat_id, message_id)] = answer_id
        while len(self._messages) > 4 * self.max_answers:  # a few messages per answer at most
            self._messages.popitem(last=False)

    def find_by_message(
        self, chat_id: int, message_id: int, now: float | None = None
    ) -> Answer | None:
        """The answer a message of this chat showed, if it is still held and fresh."""
        answer_id = self._messages.get((chat_id, message_id))
        return None if answer_id is None else self.find(answer_id, chat_id, now)

    def find(self, answer_id: str, chat_id: int | None, now: float | None = None) -> Answer | None:
        """The answer stored under ``answer_id`` for this very chat, if still fresh."""
        now = time.monotonic() if now is None else now
        if chat_id is None or not ID_PATTERN.match(answer_id):
            return None
        entry = self._entries.get(answer_id)
        if entry is None:
            return None
        if now - entry.stored_at > self.max_age_seconds:
            del self._entries[answer_id]
            return None
        if entry.chat_id != chat_id:
            return None
        return entry.answer

    def next_more(
        self, answer_id: str, chat_id: int | None, now: float | None = None
    ) -> tuple[int, tuple[MoreHit, ...]] | None:
        """The next page of further passages (with the number of the first), or None if the
        answer is gone; each press moves on, so "More" never shows the same passage twice."""
        if self.find(answer_id, chat_id, now) is None:
            return None
        entry = self._entries[answer_id]
        first = entry.more_shown
        page = entry.answer.more[first : first + MORE_PAGE]
        entry.more_shown += len(page)
        return first + 1, page
