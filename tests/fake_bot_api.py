"""The fake Telegram Bot API the tests run the real bot against.

It lives in ``bot.bench.fake_bot_api`` because ``newsdesk bench load`` drives the bot against it
too; the tests import it from here, as before.
"""

from bot.bench.fake_bot_api import (
    BOT_ID,
    BOT_USERNAME,
    MAX_MESSAGE_CHARS,
    ApiCall,
    FakeBotApi,
    Fault,
    html_problem,
    iter_texts,
    serving,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "MAX_MESSAGE_CHARS",
    "ApiCall",
    "FakeBotApi",
    "Fault",
    "html_problem",
    "iter_texts",
    "serving",
]
