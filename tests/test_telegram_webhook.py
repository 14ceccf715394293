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
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr

from bot.engine import Engine
from bot.telegram.app import build_application, webhook_of, webhook_server
from bot.telegram.webhook import MAX_UPDATE_BYTES
from tests.conftest import bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

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


def chunks(chunk: bytes, count: int) -> Iterator[bytes]:
    """A large body streamed, so that the client itself holds one chunk at a time."""
    for _ in range(count):
        yield chunk


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


def resident_mb() -> float:
    return _status_mb("VmRSS")


def peak_resident_mb() -> float:
    return _status_mb("VmHWM")


def refused_while_sending(
    url: str, body: bytes | Iterator[bytes], secret: str | None, status: int
) -> bool:
    """Answered ``status``, or hung up on before the client had sent it all: a refusal too."""
    hung_up = (ConnectionResetError, BrokenPipeError)
    try:
        return post(url, body, secret=secret) == status
    except urllib.error.URLError as error:
        return isinstance(error.reason, hung_up)
    except hung_up:
        return True


def post(url: str, body: bytes | Iterator[bytes] | list[bytes], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if not isinstance(body, bytes):
        body = list(body)  # each chunk one buffer, sent one after another
        headers["Content-Length"] = str(sum(len(chunk) for chunk in body))
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

    application = build_application(settings, seed_engine)
    server = webhook_server(application, webhook, max_connections=4)

    url = f"http://127.0.0.1:{webhook.port}/{webhook.url_path}"
    with serving(application, server):
        [registered] = api.calls_to("setWebhook")
        assert registered.params["secret_token"] == SECRET
        assert post(url, question_update(1, 4001), secret=None) == 403
        assert post(url, question_update(2, 4002), secret="wrong-secret") == 403
        assert post(url, question_update(3, 4003), secret=SECRET) == 200
        assert post(url, question_update(3, 4003), secret=SECRET) == 200  # delivered again
        api.wait_for_messages(4003, 1, timeout=20, settle=1.0)
        assert post(url, b"{not json", secret=SECRET) == 400
        assert post(url, b"[" * 100_000 + b"]" * 100_000, secret=SECRET) == 400  # too deep
        assert post(url, b'{"update_id": 5, "message": "' + b"\xff" + b'"}', secret=SECRET) == 400
        assert post(url, b'{"update_id": 6, "message": {"text": "no chat"}}', secret=SECRET) == 200
        assert refused_while_sending(url, b"x" * (MAX_UPDATE_BYTES + 1), SECRET, 413)
        # A large body without the secret is refused before it is read into memory.
        before = resident_mb()
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
        # Answered 403 and hung up on before the client has finished sending: also a refusal.
        assert refused_while_sending(url, chunks(b"x" * (1 << 20), 60), None, 403)
        assert peak_resident_mb() - before < 30
        assert post(url, question_update(7, 4003), secret=SECRET) == 200
        api.wait_for_messages(4003, 2, timeout=20, settle=0.5)
    assert api.sent_texts(4001) == [] and api.sent_texts(4002) == []
    answers = api.sent_texts(4003)
    assert len(answers) == 2 and all("<b>Mustafa Bali</b>" in a for a in answers)
