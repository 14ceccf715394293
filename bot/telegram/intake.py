"""Take from Telegram only the updates the bot can work on now.

python-telegram-bot's polling asks for up to 100 updates at a time and queues them all; under a
burst the last of them wait seconds in the bot's memory, and a crash loses every update taken
but not yet answered (polling has already confirmed them to Telegram). ``UpdateIntake`` is the
``Application``'s update queue and knows how many updates are unfinished; ``PacedBot`` waits
until at least half of it is free, then asks ``getUpdates`` for just the free room. The backlog
stays at Telegram, where it is safe, and an update taken is answered within a few answers'
time. Waiting for half rather than one free place lets one request fetch several updates
under load, where each ``getUpdates`` costs about as much CPU as a ``sendMessage``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import ExtBot


class UpdateIntake(asyncio.Queue[object]):
    """The update queue, counting updates from ``put`` until PTB marks them ``task_done``."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        super().__init__()
        self.capacity = capacity
        self.low_water = capacity - (capacity + 1) // 2  # ask again at or below this many
        self._unfinished = 0
        self._room = asyncio.Event()
        self._room.set()

    @property
    def unfinished(self) -> int:
        return self._unfinished

    def put_nowait(self, item: object) -> None:
        super().put_nowait(item)
        self._unfinished += 1
        if self._unfinished > self.low_water:
            self._room.clear()

    def task_done(self) -> None:
        super().task_done()
        self._unfinished -= 1
        if self._unfinished <= self.low_water:
            self._room.set()

    async def room(self) -> int:
        """Wait until at least half the capacity is free; return how many updates fit."""
        while self._unfinished > self.low_water:
            await self._room.wait()
        return self.capacity - self._unfinished


class PacedBot(ExtBot[Any]):
    """``ExtBot`` whose ``getUpdates`` asks for no more updates than ``intake`` has room for."""

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
