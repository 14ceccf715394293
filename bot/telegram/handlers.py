"""The bot's handlers: commands, questions, buttons and the one error handler.

The gate (``gate.py``) has already checked access and the rate limit; each handler does one
thing. Questions go to ``engine.ask`` on the
desk's worker threads (``Desk.ask``) so the event loop keeps serving other chats meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError

from bot.conversation import Reading, read_question, turn_of
from bot.reports import describe_error
from bot.telegram.render import (
    html_pieces,
    pack_messages,
    render_answer,
    render_context,
    render_lines,
    render_more,
)
from bot.telegram.replies import (
    ADMINS_ONLY,
    EMPTY_QUESTION,
    EXPIRED,
    FORGOTTEN,
    QUESTION_TOO_LONG,
    QUOTES_USAGE,
    READ_AS,
    SORRY,
    VOTED,
    describe_stats,
    help_lines,
    quotes_lines,
    sources_lines,
    start_lines,
)
from bot.telegram.sending import maybe_delivered
from bot.telegram.state import NewsContext
from index.answering.followup import Turn
from index.answering.results import Answer
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows "typing…" for about 5 seconds
CALLBACK_DATA = re.compile(r"^(more|context|good|bad):([A-Za-z0-9_-]{1,32})$")
VOTE_LABELS = {"good": "👍", "bad": "👎"}
_COMMAND_PREFIX = re.compile(r"^/\S*")


async def reply_all(
    message: Message, texts: Sequence[str], markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Send ``texts`` as consecutive replies; the keyboard goes on the last one.

    In groups the first message quotes the question, so readers see what it answers.
    """
    in_group = message.chat.type != ChatType.PRIVATE
    sent = []
    for number, text in enumerate(texts):
        last = number == len(texts) - 1
        sent.append(
            await message.reply_html(
                text, reply_markup=markup if last else None, do_quote=in_group and number == 0
            )
        )
    return sent


async def admin_only(update: Update, context: NewsContext) -> bool:
    """Whether the sender is an admin; others are told so, briefly (the gate let them in)."""
    user = update.effective_user
    if context.desk.access.is_admin(user.id if user else None):
        return True
    if update.effective_message is not None:
        await update.effective_message.reply_text(ADMINS_ONLY)
    return False


@asynccontextmanager
async def typing_in(bot: Bot, chat_id: int, after: float) -> AsyncIterator[None]:
    """Show "typing…" once the body has run ``after`` seconds, refreshed until it ends.

    Telegram advises the chat action only for replies that take noticeable time; skipping it
    for quick answers also halves the requests each question costs against the flood limits.
    """

    async def keep_typing() -> None:
        await asyncio.sleep(after)
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as error:  # a missing "typing…" is no reason to fail
                logger.debug("chat action failed: %s", error)
            await asyncio.sleep(TYPING_REFRESH_SECONDS)

    typing = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        typing.cancel()
        with suppress(asyncio.CancelledError):
            await typing


def answer_keyboard(answer: Answer, answer_id: str) -> InlineKeyboardMarkup:
    """ "More", "Context", 👍 and 👎 buttons that carry only the answer's server-side id.

    Every answer can be voted on, a decline or a refusal too: a 👎 there is a question the
    bot should have answered.
    """
    buttons = []
    if answer.more:
        buttons.append(InlineKeyboardButton("More", callback_data=f"more:{answer_id}"))
    if answer.source is not None and answer.context:
        buttons.append(InlineKeyboardButton("Context", callback_data=f"context:{answer_id}"))
    for vote, label in VOTE_LABELS.items():
        buttons.append(InlineKeyboardButton(label, callback_data=f"{vote}:{answer_id}"))
    return InlineKeyboardMarkup([buttons])


async def answer_question(update: Update, context: NewsContext, question: str) -> None:
    """Ask the engine off the event loop and reply with the rendered answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    question = question.strip()
    if not question:
        await message.reply_text(EMPTY_QUESTION)
        return
    if len(question) > MAX_QUESTION_CHARS:
        await message.reply_text(QUESTION_TOO_LONG.format(limit=MAX_QUESTION_CHARS))
        return
    desk = context.desk
    reading = read_question(_previous_turn(message, context), question)
    async with typing_in(context.bot, message.chat_id, desk.typing_after):
        answer = await desk.ask(reading.asked)
    answer_id = desk.answers.store(message.chat_id, answer)
    desk.conversations.remember(message.chat_id, turn_of(answer))
    texts = with_reading(reading, render_answer(answer))
    sent = await reply_all(message, texts, answer_keyboard(answer, answer_id))
    for reply in sent:
        desk.answers.link(answer_id, message.chat_id, reply.message_id)


def _previous_turn(message: Message, context: NewsContext) -> Turn | None:
    """What a follow-up leans on: the answer it replies to, else the chat's last answer."""
    desk, replied = context.desk, message.reply_to_message
    if replied is not None and replied.from_user and replied.from_user.id == context.bot.id:
        answer = desk.answers.find_by_message(message.chat_id, replied.message_id)
        if answer is not None:
            return turn_of(answer)
    return desk.conversations.previous(message.chat_id)


def with_reading(reading: Reading, texts: list[str]) -> list[str]:
    """The answer's messages, led by "(read as: ...)" when the question was rewritten."""
    if not reading.rewritten:
        return texts
    return pack_messages([*html_pieces(READ_AS.format(question=reading.asked)), "\n", *texts])


def question_for_bot(message: Message, bot_username: str, bot_id: int) -> str | None:
    """In a group: the question if the message mentions the bot or replies to it, else None."""
    text = message.text or ""
    replied = message.reply_to_message
    addressed = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    mention = f"@{bot_username}".lower()
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, value in entities.items():
        named = entity.type == MessageEntity.MENTION and value.lower() == mention
        linked = entity.user is not None and entity.user.id == bot_id
        addressed = addressed or named or linked
    if not addressed:
        return None
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE).strip()


async def private_message(update: Update, context: NewsContext) -> None:
    """Plain text in a private chat is a question."""
    message = update.effective_message
    if message is None:
        return
    await answer_question(update, context, message.text or "")


async def group_message(update: Update, context: NewsContext) -> None:
    """Group text is a question only when it mentions the bot or replies to it."""
    message = update.effective_message
    if message is None:
        return
    question = question_for_bot(message, context.bot.username, context.bot.id)
    if question is None:
        return  # chatter between people is none of the bot's business
    await answer_question(update, context, question)


async def ask_command(update: Update, context: NewsContext) -> None:
    """/ask QUESTION, the way to ask in a group."""
    message = update.effective_message
    if message is None:
        return
    await answer_question(update, context, _COMMAND_PREFIX.sub("", message.text or "", count=1))


async def start_command(update: Update, context: NewsContext) -> None:
    """Say what the bot knows: how many articles, their dates, and example questions."""
    message = update.effective_message
    if message is None:
        return
    await reply_all(message, render_lines(start_lines(context.engine.articles())))


async def help_command(update: Update, context: NewsContext) -> None:
    """How to ask, and the commands."""
    message = update.effective_message
    if message is None:
        return
    user = update.effective_user
    is_admin = context.desk.access.is_admin(user.id if user else None)
    minutes = context.desk.settings.follow_up_minutes
    await reply_all(message, render_lines(help_lines(is_admin, minutes)))


async def new_command(update: Update, context: NewsContext) -> None:
    """/new: forget the chat's last answer, so the next question is read on its own."""
    message = update.effective_message
    if message is None:
        return
    context.desk.conversations.forget(message.chat_id)
    await message.reply_text(FORGOTTEN)


async def sources_command(update: Update, context: NewsContext) -> None:
    """The newest articles with their dates, or those whose title holds ``/sources WORD``."""
    message = update.effective_message
    if message is None:
        return
    word = " ".join(context.args or [])
    await reply_all(message, render_lines(sources_lines(context.engine.articles(), word)))


async def quotes_command(update: Update, context: NewsContext) -> None:
    """/quotes NAME: what NAME said in the articles, newest first."""
    message = update.effective_message
    if message is None:
        return
    name = " ".join(_COMMAND_PREFIX.sub("", message.text or "", count=1).split())
    if not name or len(name) > MAX_QUESTION_CHARS:
        await message.reply_text(QUOTES_USAGE)
        return
    found = await asyncio.to_thread(context.engine.quotes, name)  # SQLite: off the event loop
    await reply_all(message, render_lines(quotes_lines(name, found)))


async def stats_command(update: Update, context: NewsContext) -> None:
    """Admins only: index size, model, questions answered, uptime."""
    message = update.effective_message
    if message is None or not await admin_only(update, context):
        return
    await reply_all(message, render_lines(describe_stats(context.engine.stats())))


async def unknown_command(update: Update, context: NewsContext) -> None:
    """An unknown command in a private chat gets a pointer to /help."""
    message = update.effective_message
    if message is None:
        return
    await message.reply_text("I don't know that command. Send /help to see what I can do.")


async def button_callback(update: Update, context: NewsContext) -> None:
    """ "More", "Context", 👍 and 👎: look the answer up server-side, for this chat only."""
    query = update.callback_query
    if query is None:
        return
    match = CALLBACK_DATA.match(query.data or "")
    chat_id = query.message.chat.id if query.message is not None else None
    answers = context.desk.answers
    answer = answers.find(match.group(2), chat_id) if match else None
    if match is None or answer is None or query.message is None or chat_id is None:
        await query.answer(EXPIRED)
        return
    if match.group(1) in VOTE_LABELS:
        try:
            await _vote(context, answer, match.group(1), chat_id, match.group(2))
        except NewsdeskError as error:  # the log cannot be written: say the vote is not in
            logger.warning("could not record a vote: %s", describe_error(error))
            await query.answer(VOTE_NOT_RECORDED)
            return
        await query.answer(VOTED[match.group(1)])
        return
    await query.answer()
    if match.group(1) == "more":
        first, page = answers.next_more(match.group(2), chat_id) or (1, ())
        texts = render_more(page, first=first)
    else:
        texts = render_context(answer)
    reply_to = ReplyParameters(query.message.message_id, allow_sending_without_reply=True)
    for number, text in enumerate(texts):
        sent = await context.bot.send_message(
            query.message.chat.id,
            text,
            parse_mode=ParseMode.HTML,
            reply_parameters=reply_to if number == 0 else None,
        )
        answers.link(match.group(2), query.message.chat.id, sent.message_id)


VOTE_NOT_RECORDED = "Sorry, I could not record your vote. Please try again later."


async def _vote(
    context: NewsContext, answer: Answer, vote: str, chat_id: int, answer_id: str
) -> None:
    """Append the vote to the feedback log on a thread: file I/O stays off the event loop."""
    build_id = context.engine.store.manifest.build_id
    await asyncio.to_thread(
        context.desk.feedback.record,
        answer,
        vote,
        chat=chat_id,
        answer_id=answer_id,
        build_id=build_id,
    )


async def error_handler(update: object, context: NewsContext) -> None:
    """Log the traceback, then tell the user something short; never show them a traceback."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    if context.error is not None and maybe_delivered(context.error):
        return  # a send that went out and lost its answer may have arrived: no apology on top
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(SORRY)
    except TelegramError as error:  # the apology failing too must not loop back in here
        logger.warning("could not send the apology: %s", error)
