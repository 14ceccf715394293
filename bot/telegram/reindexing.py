"""``/reindex``: rebuild the index beside the running bot, and stop that rebuild when the bot stops.

The rebuild runs in a daemon thread of its own, awaited by a task that holds none of the bot's
update places (``TELEGRAM_MAX_IN_FLIGHT``). Stopping the bot tells the build to stop (it checks
between steps and leaves the live index as it was), waits ``STOP_GRACE_SECONDS`` for it, then
leaves it: a SIGTERM used to wait for the whole reindex (80 s), and a daemon thread ends with
the process. A build cut off there is what a crash leaves, which builds are made to survive:
the live index is swapped in by one atomic rename, and the next build removes the leftovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from telegram import Message, Update

from bot.reports import describe_error
from bot.telegram.handlers import admin_only, reply_all
from bot.telegram.render import render_lines
from bot.telegram.replies import (
    REINDEX_FAILED,
    REINDEX_RUNNING,
    REINDEX_STARTED,
    describe_reindex,
)
from bot.telegram.state import Desk, NewsContext
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 3.0  # how long a stopping bot waits for its reindex to notice
Result = TypeVar("Result")


async def reindex_command(update: Update, context: NewsContext) -> None:
    """Admins only: rebuild the index while questions keep being answered; one at a time."""
    message = update.effective_message
    if message is None or not await admin_only(update, context):
        return
    desk = context.desk
    if desk.reindex_lock.locked():
        await message.reply_text(REINDEX_RUNNING)
        return
    await desk.reindex_lock.acquire()  # an unlocked asyncio.Lock is taken at once
    try:
        await message.reply_text(REINDEX_STARTED)
    except BaseException:
        desk.reindex_lock.release()
        raise
    desk.reindex_task = context.application.create_task(_reindex(message, context), update=update)


async def stop_reindex(desk: Desk) -> None:
    """Tell a running reindex to stop; give it ``STOP_GRACE_SECONDS``, then cancel its task."""
    desk.stopping.set()
    task = desk.reindex_task
    if task is None or task.done():
        return
    await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
    if not task.done():
        logger.warning("the reindex is still running; stopping without it (the index stands)")
        task.cancel()


async def _reindex(message: Message, context: NewsContext) -> None:
    """Rebuild, swap, and tell the admin what changed (or why nothing did); frees the lock."""
    desk = context.desk
    reason: str | None = None
    try:
        report = await in_daemon_thread(
            lambda: context.engine.reindex(should_stop=desk.stopping.is_set)
        )
    except NewsdeskError as error:  # the live index is untouched: say why, keep answering
        logger.warning("reindex failed: %s", error)
        reason = describe_error(error)
    except OSError as error:  # the index folder cannot be written (read-only, full)
        logger.warning("reindex failed: %s", error)
        reason = f"the index folder cannot be written ({type(error).__name__})"
    finally:
        desk.reindex_lock.release()
    if reason is not None:
        if not desk.stopping.is_set():
            await message.reply_text(REINDEX_FAILED.format(reason=reason))
        return
    await reply_all(message, render_lines(describe_reindex(report, context.engine.stats())))


async def in_daemon_thread(work: Callable[[], Result]) -> Result:
    """``work()`` in a daemon thread (``asyncio.to_thread``'s are joined at exit)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Result] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        outcome: Callable[[], None]
        try:
            outcome = functools.partial(future.set_result, work())
        except BaseException as error:  # handed to the awaiting task, which decides
            outcome = functools.partial(future.set_exception, error)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="newsdesk-reindex", daemon=True).start()
    return await future
