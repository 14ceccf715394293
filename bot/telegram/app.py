"""Build and run the Telegram ``Application``: polling by default, a webhook when configured.

``build_application`` wires everything and is what the tests drive against a fake Bot API;
``run_bot`` is ``newsdesk telegram``: it checks the settings, loads the engine once at start
(``post_init``) and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.config import Settings, SettingsError
from bot.engine import Engine
from bot.runtime import configure_logging
from bot.telegram import adding, handlers, reindexing, watching
from bot.telegram.gate import gate
from bot.telegram.intake import FairProcessor, PacedBot, UpdateIntake, read_update
from bot.telegram.journal import JOURNAL_FILE, UpdateJournal
from bot.telegram.redact import install_redaction, token_secrets
from bot.telegram.sending import RetryingRateLimiter
from bot.telegram.state import DESK_KEY, Desk, NewsApplication, NewsContext, desk_of
from bot.telegram.webhook import WebhookServer
from index.errors import NewsdeskError

logger = logging.getLogger(__name__)

# "123456789:AAH..." from @BotFather: the bot's numeric id, a colon, then the secret.
TOKEN_PATTERN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{20,128}$")
# Telegram accepts 1 to 256 of these characters in a webhook secret token; Newsdesk asks for at
# least 16, so that guessing it is hopeless and redacting it from logs never mangles them.
MIN_WEBHOOK_SECRET = 16
WEBHOOK_SECRET_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{{MIN_WEBHOOK_SECRET},256}}$")
MAX_WEBHOOK_CONNECTIONS = 100  # Telegram's upper bound for setWebhook's max_connections
MIN_CONNECTIONS = 8  # for sending; getUpdates has its own single connection
RATE_LIMIT_RETRIES = 3  # retries after Telegram answers 429 "Too Many Requests"
# How long a sent request waits for the Bot API's answer. A request that times out after going
# out is not resent (it may have arrived), so this is generous: Telegram answers a sendMessage
# within a second or two, and only a stuck request waits this long. Connecting is quick or fails.
SEND_TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 5.0
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

BOT_COMMANDS = [
    BotCommand("ask", "Ask a question about the articles"),
    BotCommand("sources", "List the indexed articles"),
    BotCommand("new", "Forget the last answer: a new topic"),
    BotCommand("quotes", "What someone said: /quotes NAME"),
    BotCommand("start", "What I know, with example questions"),
    BotCommand("help", "How to ask"),
]


class TelegramStartError(NewsdeskError):
    """The bot could not start talking to Telegram (bad token, no network)."""


@dataclass(frozen=True)
class Webhook:
    listen: str
    port: int
    url: str
    url_path: str
    secret: str


def bot_token(settings: Settings) -> str:
    """The token, checked for shape; errors name the setting and never include its value."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env"
        )
    token = settings.telegram_bot_token.get_secret_value().strip()
    if not TOKEN_PATTERN.match(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token "
            "(expected digits, a colon, then the secret from @BotFather)"
        )
    return token


def webhook_of(settings: Settings) -> Webhook | None:
    """The webhook to serve, or None for long polling; a webhook must have a secret token."""
    if not settings.webhook_url:
        return None
    parts = urlsplit(settings.webhook_url)
    if parts.scheme != "https" or not parts.hostname:
        raise SettingsError("WEBHOOK_URL must be an https:// URL (Telegram only calls HTTPS)")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise SettingsError(
            "WEBHOOK_SECRET is required with WEBHOOK_URL, so that only Telegram can post updates"
        )
    if not WEBHOOK_SECRET_PATTERN.match(secret):
        raise SettingsError(
            f"WEBHOOK_SECRET must be {MIN_WEBHOOK_SECRET} to 256 characters of A-Z, a-z, 0-9, "
            "_ and - (it guards the webhook, and is redacted from every log line)"
        )
    return Webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url=settings.webhook_url,
        url_path=parts.path.lstrip("/"),
        secret=secret,
    )


def _file_url(base_url: str) -> str:
    """``…/bot`` -> ``…/file/bot``: where a (local) Bot API server serves files."""
    root = base_url[: -len("bot")] if base_url.endswith("bot") else base_url.rstrip("/") + "/"
    return root + "file/bot"


def build_application(
    settings: Settings,
    engine: Engine | None = None,
    *,
    send_timeout: float = SEND_TIMEOUT_SECONDS,
) -> NewsApplication:
    """The configured ``Application``; with no ``engine`` it is loaded in ``post_init``.

    ``send_timeout`` is how long a request (not the long poll) waits for the Bot API's answer
    before it counts as failed (and, having gone out, is not resent). Raises ``SettingsError``
    for a missing or malformed token. Installs the log filter that redacts the token before
    anything can log it.
    """
    token = bot_token(settings)
    secrets = token_secrets(token)
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    install_redaction(secrets)
    intake = UpdateIntake(settings.telegram_max_in_flight)
    bot = PacedBot(
        token,
        base_url=settings.telegram_base_url,
        base_file_url=_file_url(settings.telegram_base_url),
        # Each update in flight may send a chat action and a reply at once.
        request=HTTPXRequest(
            connection_pool_size=max(MIN_CONNECTIONS, 2 * settings.telegram_max_in_flight),
            read_timeout=send_timeout,
            connect_timeout=min(CONNECT_TIMEOUT_SECONDS, send_timeout),
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=RetryingRateLimiter(
            max_retries=RATE_LIMIT_RETRIES, overall_max_rate=settings.telegram_sends_per_second
        ),
        intake=intake,
    )
    application = cast(
        NewsApplication,
        ApplicationBuilder()
        .bot(bot)
        .update_queue(intake)
        .context_types(ContextTypes(context=NewsContext))
        .concurrent_updates(FairProcessor(intake))
        .application_class(NewsdeskApplication)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build(),
    )
    application.bot_data[DESK_KEY] = Desk.from_settings(settings, engine)
    add_handlers(application)
    return application


def add_handlers(application: NewsApplication) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, gate), group=-1)
    application.add_handler(CommandHandler("start", handlers.start_command))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("ask", handlers.ask_command))
    application.add_handler(CommandHandler("sources", handlers.sources_command))
    application.add_handler(CommandHandler("new", handlers.new_command))
    application.add_handler(CommandHandler("quotes", handlers.quotes_command))
    application.add_handler(CommandHandler("stats", handlers.stats_command))
    application.add_handler(CommandHandler("reindex", reindexing.reindex_command))
    application.add_handler(CommandHandler("add", adding.add_command))
    application.add_handler(MessageHandler(filters.Document.ALL & private, adding.document_message))
    application.add_handler(CallbackQueryHandler(handlers.button_callback))
    text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & private, handlers.private_message))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, handlers.group_message))
    application.add_handler(MessageHandler(filters.COMMAND & private, handlers.unknown_command))
    application.add_error_handler(handlers.error_handler)


async def _post_init(application: NewsApplication) -> None:
    """Load the engine once (a failure stops the start), then register the command menu."""
    desk = desk_of(application)
    if desk.engine is None:
        logger.info("loading the index")
        # One encoder thread per question: the workers already answer one question per core.
        desk.engine = await asyncio.to_thread(
            Engine.load,
            desk.settings.index_setup(),
            build_missing=True,
            on_build=logger.warning,
            query_threads=1,
        )
    open_journal(application)
    await application.bot.set_my_commands(BOT_COMMANDS)
    logger.info("Newsdesk is answering as @%s", application.bot.username)


async def _post_shutdown(application: NewsApplication) -> None:
    """Let the question workers go; a question still running finishes on its own."""
    desk_of(application).workers.shutdown(wait=False, cancel_futures=True)


class NewsdeskApplication(Application):
    """PTB's ``Application`` that keeps its update journal and stops a reindex when stopping.

    Stopping waits for the updates in flight (seconds) but not for a reindex (minutes): the
    reindex is told to stop and leaves the live index as it was.
    """

    async def initialize(self) -> None:
        await super().initialize()
        if desk_of(self).engine is not None:  # loaded already (the tests hand one in)
            open_journal(self)

    async def start(self) -> None:
        await super().start()
        desk = desk_of(self)
        if desk.settings.watch_seconds > 0 and desk.engine is not None:
            desk.watch_task = asyncio.create_task(watching.watch_seeds(self), name="watch")

    async def stop(self) -> None:
        desk = desk_of(self)
        if desk.watch_task is not None:
            desk.watch_task.cancel()
        await reindexing.stop_reindex(desk)
        try:
            await super().stop()
        finally:
            intake = self.update_queue
            if isinstance(intake, UpdateIntake):
                intake.journal.close()


def open_journal(application: NewsApplication) -> None:
    """Open the update journal beside the index and queue what an earlier run left unanswered.

    Once per run; the index folder exists by now (the engine is loaded). ``TELEGRAM_STATE_DIR``
    puts it elsewhere (an index folder the bot may not write).
    """
    intake = application.update_queue
    if not isinstance(intake, UpdateIntake) or intake.journal.path is not None:
        return
    settings = desk_of(application).settings
    folder = settings.telegram_state_dir or settings.index_dir
    intake.journal = UpdateJournal(folder / JOURNAL_FILE)
    replayed = 0
    for data in intake.journal.pending():
        update = read_update(data, application.bot)
        if update is None:
            intake.journal.done(data["update_id"])
            continue
        intake.replay(update)
        replayed += 1
    if replayed:
        logger.info("answering %d update(s) taken before a restart", replayed)


def run_bot(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM: long polling, or a webhook server when WEBHOOK_URL is set.

    Raises ``SettingsError`` for bad settings (before any network), ``NewsdeskError`` when the
    engine cannot load or Telegram cannot be reached at start.
    """
    bot_token(settings)
    webhook = webhook_of(settings)
    if not logging.getLogger().handlers:
        configure_logging(settings.log_level)
    application = build_application(settings)
    try:
        # Reach Telegram once before starting: PTB's own start logs a long traceback for each
        # failed attempt before giving up, where one line says it all.
        asyncio.run(_reach_telegram(application))
        if webhook is None:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            server = webhook_server(
                application,
                webhook,
                min(settings.telegram_max_in_flight, MAX_WEBHOOK_CONNECTIONS),
            )
            asyncio.run(_serve_webhook(application, server))
    except InvalidToken as error:
        raise TelegramStartError(
            "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"
        ) from error
    except NetworkError as error:
        raise TelegramStartError(
            f"cannot reach the Bot API at {settings.telegram_base_url}: {type(error).__name__}"
        ) from error


def webhook_server(
    application: NewsApplication, webhook: Webhook, max_connections: int
) -> WebhookServer:
    return WebhookServer(
        application,
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.url_path,
        url=webhook.url,
        secret=webhook.secret,
        allowed_updates=ALLOWED_UPDATES,
        max_connections=max_connections,
    )


async def _reach_telegram(application: NewsApplication) -> None:
    """``getMe`` with the bot's own settings; raises what PTB raises (bad token, no network)."""
    await application.bot.initialize()
    await application.bot.shutdown()


async def _serve_webhook(application: NewsApplication, server: WebhookServer) -> None:
    """What ``run_webhook`` does, with Newsdesk's server: run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await server.start()
        try:
            await stop.wait()
        finally:
            await server.stop()
            await application.stop()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
