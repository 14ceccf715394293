"""Take from Telegram only the updates the bot can work on now.

python-telegram-bot's polling asks for up to 100 updates at a time and queues them all; under a
burst the last of them wait seconds in the bot's memory, and a crash loses every update taken
but not yet answered (polling has already confirmed them to Telegram). ``UpdateIntake`` is the
``Application``'s update queue and knows how many updates are unfinished; ``PacedBot`` waits
until at least half of it is free, then asks ``getUpdates`` for just the free room. The backlog
stays at Telegram, where it is safe, and an update taken is answered within a few answers'
time. Waiting for half rather than one free place lets one request fetch several updates
under load, where each ``getUpdates`` costs about as much CPU as a ``sendMessage``.

In webhook mode PTB's handler awaits ``put`` before answering Telegram's request, so ``put``
waits while the intake is full: Telegram, which sends at most ``max_connections`` updates at
once and none past an unanswered one, keeps the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

logger = logging.getLogger(__name__)


class UpdateIntake(asyncio.Queue[object]):
    """The update queue, counting updates from ``put`` until PTB marks them ``task_done``."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        super().__init__()
        self.capacity = capacity
        self.low_water = capacity - (capacity + 1) // 2  # ask again at or below this many
        self._unfinished = 0
        self._room = asyncio.Event()  # at most low_water unfinished: ask for more
        self._room.set()
        self._space = asyncio.Event()  # below capacity: one more update fits
        self._space.set()

    @property
    def unfinished(self) -> int:
        return self._unfinished

    async def put(self, item: object) -> None:
        """Queue ``item``; an update waits for space first (PTB's stop signal never does)."""
        while isinstance(item, Update) and self._unfinished >= self.capacity:
            await self._space.wait()
        self.put_nowait(item)

    def put_nowait(self, item: object) -> None:
        super().put_nowait(item)
        self._unfinished += 1
        self._update_events()

    def task_done(self) -> None:
        super().task_done()
        self._unfinished -= 1
        self._update_events()

    def _update_events(self) -> None:
        for event, free in (
            (self._room, self._unfinished <= self.low_water),
            (self._space, self._unfinished < self.capacity),
        ):
            if free:
                event.set()
            else:
                event.clear()

    async def room(self) -> int:
        """Wait until at least half the capacity is free; return how many updates fit."""
        while self._unfinished > self.low_water:
            await self._room.wait()
        return self.capacity - self._unfinished


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
