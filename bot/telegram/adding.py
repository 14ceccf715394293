"""Admins hand the bot articles: a document (.txt, .md, .html, .jsonl) sent to it, or a text
with ``/add`` (``/add TEXT``, or ``/add`` in reply to a forwarded message).

The article is saved into the seeds folder under a safe name of its own (``bot.adding``),
indexed at once, and the admin told what was added. Anyone else is refused in one line.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError

from bot.adding import AddError, index_added, save_article, text_article
from bot.reports import describe_error
from bot.telegram.handlers import admin_only
from bot.telegram.reindexing import in_daemon_thread
from bot.telegram.state import NewsContext
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

ADD_USAGE = (
    "Send me an article as a document (.txt, .md, .html or .jsonl), or /add followed by its "
    "text (first line: the title), or reply /add to a forwarded message."
)
ASK_AWAY = "; ask away"
NOTHING_ADDED = "Nothing was added: {reason}"
SAVED_NOT_INDEXED = "Saved as {name}; it will be indexed at the next update ({reason})."


async def add_command(update: Update, context: NewsContext) -> None:
    """``/add TEXT`` or ``/add`` replying to a message: that text becomes an article."""
    message = update.effective_message
    if message is None or not await admin_only(update, context):
        return
    text = (message.text or "").partition(" ")[2].strip()
    replied = message.reply_to_message
    if not text and replied is not None:
        text = (replied.text or replied.caption or "").strip()
    if not text:
        await message.reply_text(ADD_USAGE)
        return
    name, data = text_article(text)
    await _add(message, context, name, data)


async def document_message(update: Update, context: NewsContext) -> None:
    """A document sent in a private chat: an admin's is added, anyone else's refused."""
    message = update.effective_message
    if message is None or message.document is None or not await admin_only(update, context):
        return
    document = message.document
    limit = int(context.desk.settings.max_article_mb * 2**20)
    name = document.file_name or "article.txt"
    if document.file_size is not None and document.file_size > limit:
        await message.reply_text(
            NOTHING_ADDED.format(reason=f"{name} is larger than {limit / 2**20:.0f} MB")
        )
        return
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        logger.warning("could not fetch an uploaded document: %s", error)
        await message.reply_text(NOTHING_ADDED.format(reason="the file could not be fetched"))
        return
    await _add(message, context, name, data)


async def _add(message: Message, context: NewsContext, name: str, data: bytes) -> None:
    desk = context.desk
    limit = int(desk.settings.max_article_mb * 2**20)
    try:
        saved = save_article(desk.settings.seeds_dir, name, data, limit)
    except AddError as error:
        await message.reply_text(NOTHING_ADDED.format(reason=str(error)), parse_mode=None)
        return
    try:
        async with desk.reindex_lock:  # never beside a /reindex or the watch's update
            added, problems = await in_daemon_thread(
                lambda: index_added(context.engine, [saved], desk.stopping.is_set)
            )
    except NewsdeskError as error:  # the file is kept: the next update indexes it
        logger.warning("indexing an added article failed: %s", error)
        reason = describe_error(error)
        await message.reply_text(
            SAVED_NOT_INDEXED.format(name=saved.name, reason=reason), parse_mode=None
        )
        return
    if not added:
        reason = "; ".join(problems) or "no article in it"
        await message.reply_text(NOTHING_ADDED.format(reason=reason), parse_mode=None)
        return
    lines = [article.line() for article in added]
    await message.reply_text("\n".join(lines) + ASK_AWAY, parse_mode=None)
