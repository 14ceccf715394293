"""Run the real bot against the fake API (or a webhook server) in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from telegram.ext import Application


class WebhookLike(Protocol):
    """A webhook server the bot runs instead of polling (``bot.telegram.webhook``)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@contextmanager
def serving(
    application: Application[Any, Any, Any, Any, Any, Any],
    webhook: WebhookLike | None = None,
) -> Iterator[None]:
    """Run ``application`` in its own thread and event loop, then stop it.

    It polls the fake server, unless ``webhook`` is given: then that server takes the updates.
    """
    ready, failures = threading.Event(), []
    loop_box: list[asyncio.AbstractEventLoop] = []
    stop_box: list[asyncio.Event] = []

    async def serve() -> None:
        loop_box.append(asyncio.get_running_loop())
        stop_box.append(asyncio.Event())
        async with application:
            await application.start()
            assert application.updater is not None
            if webhook is None:
                await application.updater.start_polling(poll_interval=0, timeout=1)
            else:
                await webhook.start()
            ready.set()
            await stop_box[0].wait()
            if webhook is None:
                await application.updater.stop()
            else:
                await webhook.stop()
            await application.stop()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:  # surfaced in the calling thread below
            failures.append(error)
            ready.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(15), "the bot did not start"
    if failures:
        raise failures[0]
    try:
        yield
    finally:
        loop_box[0].call_soon_threadsafe(stop_box[0].set)
        thread.join(15)
        assert not thread.is_alive(), "the bot did not stop"
    if failures:
        raise failures[0]
