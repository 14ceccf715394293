"""The one gate every update passes before any handler: the allowlists, then the rate limit.

Registered as a ``TypeHandler`` in group -1 (python-telegram-bot's pattern for checks that
apply to everything), it stops an update with ``ApplicationHandlerStop`` so no handler runs.
Every update a user causes counts against their limit: questions, buttons and commands alike,
so a flood of "More" presses or ``/sources`` costs the bot one "slow down" and nothing more,
and other users' questions are not kept waiting behind it. Group chatter not addressed to the
bot is let through untouched (its handler ignores it): it is neither refused nor counted.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.telegram.access import Verdict
from bot.telegram.handlers import question_for_bot
from bot.telegram.replies import REFUSED, slow_down
from bot.telegram.state import NewsContext

logger = logging.getLogger(__name__)


async def gate(update: object, context: NewsContext) -> None:
    """Let an update on to the handlers, or answer it (once) and stop it here."""
    if not isinstance(update, Update) or not _for_the_bot(update, context):
        return
    user, chat = update.effective_user, update.effective_chat
    user_id, chat_id = (user.id if user else None), (chat.id if chat else None)
    desk = context.desk
    if not desk.access.allows(user_id, chat_id):
        logger.info("refused an update from user %s in chat %s", user_id, chat_id)
        refuse = desk.refusals.should_refuse(user_id, chat_id)
        if update.callback_query is not None:
            await update.callback_query.answer(REFUSED if refuse else None)
        elif refuse and update.effective_message is not None:
            await update.effective_message.reply_text(REFUSED)
        raise ApplicationHandlerStop
    if user_id is None:
        return
    verdict = desk.limiter.check(user_id)
    if verdict is Verdict.ASK:
        return
    if verdict is Verdict.WARN:
        text = slow_down(desk.limiter, user_id)
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    # Quiet: already warned this minute; not even the button's spinner is answered.
    raise ApplicationHandlerStop


def _for_the_bot(update: Update, context: NewsContext) -> bool:
    """Button presses, private messages, commands, and group messages that address the bot."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None:
        return False  # an update without a message (or one skipped as unreadable)
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or ""
    if text.startswith("/"):  # a command, unless it names another bot: "/start@otherbot"
        _, at, name = text.split(maxsplit=1)[0].partition("@")
        return not at or name.lower() == context.bot.username.lower()
    return question_for_bot(message, context.bot.username, context.bot.id) is not None
