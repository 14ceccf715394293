"""Take updates from Telegram in full batches and serve users in turn, never one at the expense
of the others.

A flood from one user used to drain at the bot's own pace: polling asked for only as many
updates as there were free workers, so 3,000 over-limit updates from one user cost every other
user about 13 ms each (40 s in all). Now:

- ``PacedBot`` asks ``getUpdates`` for full batches (up to 100) while fewer than
  ``MAX_WAITING`` updates wait in memory; each batch is written to the ``UpdateJournal`` and
  synced before the next call acknowledges it, so nothing acknowledged is lost to a crash.
- ``UpdateIntake`` (the ``Application``'s update queue) keeps one line per user and hands the
  next update to whichever user was served longest ago, with at most ``per_user`` of a user's
  updates in flight at once: another user's question goes ahead of a backlog.
- A user with ``user_backlog`` updates already waiting has the next ones dropped at once
  (the gate would refuse them as over the rate limit anyway, after one "slow down").
- ``FairProcessor`` (PTB's update processor) tells the intake and the journal when an update
  is finished.

In webhook mode ``put`` waits while ``MAX_WAITING`` updates wait, so Telegram (which sends at
most ``max_connections`` updates at once) keeps the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from bot.telegram.journal import UpdateJournal

logger = logging.getLogger(__name__)

BATCH = 100  # Telegram's upper bound for getUpdates' limit
MAX_WAITING = 1000  # updates held in memory, not yet in flight, before polling pauses
USER_BACKLOG = 20  # updates one user may have waiting; later ones are dropped at once

UserKey = int | None


def user_key(update: Update) -> UserKey:
    """Whose line an update stands in: its user, else its chat (a channel), else nobody's."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class UpdateIntake(asyncio.Queue[object]):
    """The update queue: one line per user, served in turn, at most ``capacity`` in flight."""

    def __init__(
        self,
        capacity: int,
        *,
        journal: UpdateJournal | None = None,
        per_user: int | None = None,
        user_backlog: int = USER_BACKLOG,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.per_user = per_user or max(1, capacity // 2)
        self.user_backlog = max(user_backlog, 1)
        self.max_waiting = max(max_waiting, BATCH)
        self.journal = journal or UpdateJournal()
        self.dropped = 0
        super().__init__()
        self._changed = asyncio.Event()

    def _init(self, maxsize: int) -> None:
        self._lines: OrderedDict[UserKey, deque[Update]] = OrderedDict()  # served longest ago first
        self._signals: deque[object] = deque()  # PTB's stop signal: handed out first
        self._active: dict[UserKey, int] = {}
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def in_flight(self) -> int:
        return sum(self._active.values())

    def qsize(self) -> int:
        return self._waiting + len(self._signals)

    def empty(self) -> bool:
        return self.qsize() == 0

    async def put(self, item: object) -> None:
        """Queue ``item``; an update waits while ``max_waiting`` do (the stop signal never)."""
        while isinstance(item, Update) and self._waiting >= self.max_waiting:
            self._changed.clear()
            await self._changed.wait()
        self.put_nowait(item)

    def put_nowait(self, item: object) -> None:
        if isinstance(item, Update):
            if self.journal.known(item.update_id):
                logger.info("update %d delivered again; taken once already", item.update_id)
                return
            line = self._lines.get(user_key(item))
            if line is not None and len(line) >= self.user_backlog:
                self.dropped += 1
                logger.debug("dropped update %d: its user has a backlog", item.update_id)
                self.journal.done(item.update_id)
                return
            self.journal.taken(item.update_id, item.to_dict())
        super().put_nowait(item)

    def replay(self, update: Update) -> None:
        """Queue an update taken in an earlier run (already in the journal)."""
        super().put_nowait(update)

    def _put(self, item: object) -> None:
        if isinstance(item, Update):
            self._lines.setdefault(user_key(item), deque()).append(item)
            self._waiting += 1
        else:
            self._signals.append(item)
        self._changed.set()

    def _get(self) -> object:
        """Any item, oldest line first: what PTB drops, unanswered, when it stops."""
        if self._signals:
            return self._signals.popleft()
        key, line = next((key, line) for key, line in self._lines.items() if line)
        return self._take(key, line)

    async def get(self) -> object:
        """The next item to work on: the stop signal at once, else the next user's turn."""
        while True:
            if self._signals:
                return self._signals.popleft()
            chosen = self._next_turn()
            if chosen is not None:
                return chosen
            self._changed.clear()
            await self._changed.wait()

    def _next_turn(self) -> Update | None:
        if self.in_flight >= self.capacity:
            return None
        for key, line in self._lines.items():
            if line and self._active.get(key, 0) < self.per_user:
                self._lines.move_to_end(key)  # served now: last in turn
                return self._take(key, line)
        return None

    def _take(self, key: UserKey, line: deque[Update]) -> Update:
        update = line.popleft()
        self._waiting -= 1
        if not line:
            del self._lines[key]
        self._active[key] = self._active.get(key, 0) + 1
        self._changed.set()
        return update

    def finished(self, update: Update) -> None:
        """``update`` is answered: its user's place (and the journal's record) is free."""
        key = user_key(update)
        count = self._active.get(key, 0) - 1
        if count > 0:
            self._active[key] = count
        else:
            self._active.pop(key, None)
        self.journal.done(update.update_id)
        self._changed.set()

    async def room(self) -> int:
        """Wait until a full batch fits among the waiting updates; return how many fit."""
        while self._waiting > self.max_waiting - BATCH:
            self._changed.clear()
            await self._changed.wait()
        return BATCH


class FairProcessor(BaseUpdateProcessor):
    """Runs each update at once (the intake already bounds how many run) and reports it done.

    Its semaphore is a little wider than the intake's capacity so it never holds an update
    back itself: which update goes next is the intake's choice.
    """

    def __init__(self, intake: UpdateIntake) -> None:
        super().__init__(intake.capacity + 1)
        self.intake = intake

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            if isinstance(update, Update):
                self.intake.finished(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to let go."""


class PacedBot(ExtBot[Any]):
    """``ExtBot`` whose ``getUpdates`` asks for no more updates than ``intake`` has room for.

    An update python-telegram-bot cannot read (a message without ``chat`` or ``date`` has been
    seen) would fail the whole batch, so polling would ask for the same batch forever: such an
    update is logged once and handed on as a bare update id, which no handler takes, so the
    offset moves past it.
    """

    def __init__(self, *args: Any, intake: UpdateIntake, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._intake = intake

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        room = await self._intake.room()
        # This call acknowledges the previous batch: it must be on disk first.
        await asyncio.to_thread(self._intake.journal.sync)
        return await super().get_updates(
            offset=offset,
            limit=room if limit is None else min(limit, room),
            timeout=timeout,
            allowed_updates=allowed_updates,
            **kwargs,
        )

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [self._readable(item) for item in result]
        return result

    def _readable(self, item: Any) -> Any:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if not isinstance(update_id, int):
            return item  # no id to move past: PTB's own error stands
        return item if read_update(item, self) is not None else {"update_id": update_id}


def read_update(data: dict[str, Any], bot: ExtBot[Any]) -> Update | None:
    """The update in ``data``, or None (logged once) when python-telegram-bot cannot read it.

    Shared by polling and the webhook, so an unreadable update is skipped the same way in both.
    """
    try:
        return Update.de_json(data, bot)
    except Exception as error:  # PTB raises whatever its parsing hits (KeyError, TypeError)
        logger.warning(
            "skipped update %s, which could not be read (%s: %s)",
            data.get("update_id"),
            type(error).__name__,
            error,
        )
        return None
