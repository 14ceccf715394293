"""The bot's watch on the seeds folder: new articles answered within ``WATCH_SECONDS``.

One task looks at the folder (at once, then every ``WATCH_SECONDS``) and updates the live index
when it changed, in a daemon thread as ``/reindex`` does and under the same lock, so the two
never build at once; questions go on being answered from the index as it was until the new one
is swapped in. The admins hear of each update ("Index updated: 2 articles added.") and, once,
of a failure.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import TelegramError

from bot.telegram.reindexing import in_daemon_thread
from bot.telegram.state import Desk, NewsApplication, desk_of
from bot.watching import SeedsWatch, change_line, update_once
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

UPDATED = "Index updated: {change}."
NOT_UPDATED = "The index could not be updated from the seeds folder: {reason}"


async def watch_seeds(application: NewsApplication) -> None:
    """Look at the seeds folder every ``WATCH_SECONDS`` until cancelled."""
    desk = desk_of(application)
    engine = desk.require_engine()
    watch = SeedsWatch(desk.settings.seeds_dir, engine.store.manifest.sources)
    failed: str | None = None
    while True:
        if not desk.reindex_lock.locked():  # a /reindex runs: this look waits for the next
            async with desk.reindex_lock:
                try:
                    report = await in_daemon_thread(
                        lambda: update_once(engine, watch, desk.stopping.is_set)
                    )
                except Exception as error:  # the watch outlives any one failed update
                    if not isinstance(error, NewsdeskError | OSError):
                        logger.exception("the watch's update failed")
                    reason = str(error)
                    if reason != failed:
                        logger.warning("the index could not be updated: %s", reason)
                        await tell_admins(application, desk, NOT_UPDATED.format(reason=reason))
                    failed = reason
                else:
                    failed = None
                    change = change_line(report) if report is not None else None
                    if change is not None:
                        logger.info("index updated: %s", change)
                        await tell_admins(application, desk, UPDATED.format(change=change))
        await asyncio.sleep(desk.settings.watch_seconds)


async def tell_admins(application: NewsApplication, desk: Desk, text: str) -> None:
    """A short note to each admin's private chat; an admin who never started the bot is
    skipped (Telegram refuses the message)."""
    for admin in sorted(desk.settings.admin_user_ids):
        try:
            await application.bot.send_message(admin, text, parse_mode=None)
        except TelegramError as error:
            logger.debug("could not tell admin %s: %s", admin, error)
