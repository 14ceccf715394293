"""Webhook mode end to end: only requests carrying the secret token reach the bot.

The real ``Application`` serves its webhook on 127.0.0.1 with the settings' secret, and sends
through the fake Bot API; the test posts updates to the webhook as Telegram (or an attacker)
would.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

from pydantic import SecretStr
from telegram.ext import Updater

from bot.engine import Engine
from bot.telegram.app import build_application, webhook_of
from tests.conftest import bot_settings_for
from tests.fake_bot_api import FakeBotApi, serving

SECRET = "s3cret-Token_for-the-webhook"
QUESTION = "Who said the final battle could take hours or days?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def question_update(update_id: int, chat_id: int) -> bytes:
    person = {"id": chat_id, "is_bot": False, "first_name": f"User{chat_id}"}
    message = {
        "message_id": 100 + update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": person["first_name"]},
        "from": person,
        "text": QUESTION,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def post(url: str, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_webhook_refuses_requests_without_the_secret(api: FakeBotApi, seed_engine: Engine) -> None:
    settings = bot_settings_for(
        api,
        seed_engine,
        webhook_url="https://bot.example.org/newsdesk-hook",
        webhook_secret=SecretStr(SECRET),
        webhook_listen="127.0.0.1",
        webhook_port=free_port(),
    )
    webhook = webhook_of(settings)
    assert webhook is not None and webhook.url_path == "newsdesk-hook"

    async def start(updater: Updater) -> object:
        return await updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.url_path,
            webhook_url=webhook.url,
            secret_token=webhook.secret,
        )

    url = f"http://127.0.0.1:{webhook.port}/{webhook.url_path}"
    with serving(build_application(settings, seed_engine), start):
        [registered] = api.calls_to("setWebhook")
        assert registered.params["secret_token"] == SECRET
        assert post(url, question_update(1, 4001), secret=None) == 403
        assert post(url, question_update(2, 4002), secret="wrong-secret") == 403
        assert post(url, question_update(3, 4003), secret=SECRET) == 200
        api.wait_for_messages(4003, 1, timeout=20, settle=0.5)
    assert api.sent_texts(4001) == [] and api.sent_texts(4002) == []
    [answer] = api.sent_texts(4003)
    assert "<b>Mustafa Bali</b>" in answer
