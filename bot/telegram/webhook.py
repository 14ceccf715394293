"""The webhook server: Telegram posts updates here; only its requests get any further.

python-telegram-bot's own webhook reads the whole body before it looks at the secret header (a
95 MB POST without the secret raised memory by 220 MB before the 403), answers malformed JSON
with a 500, and queues a re-delivered update again. This server, on tornado as PTB's is, and
fed into the same update queue (PTB's documented way to run a custom webhook):

- checks ``X-Telegram-Bot-Api-Secret-Token`` as soon as the headers arrive, and keeps nothing
  of a refused request's body;
- caps the body at ``MAX_UPDATE_BYTES`` (an update is a few kilobytes) with a 413;
- answers a body that is not UTF-8 JSON with a 400;
- answers 200 only once the update is in the ``UpdateJournal`` on disk, and answers each
  update once, however often Telegram delivers it (it re-delivers when its request timed out),
  across restarts too: the journal knows every update id taken.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler, stream_request_body

from bot.telegram.intake import UpdateIntake, read_update
from bot.telegram.state import NewsApplication

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20


@stream_request_body
class UpdateReceiver(RequestHandler):
    """One POST is one update; refused requests are answered before their body is read."""

    news: NewsApplication
    secret: str
    intake: UpdateIntake

    def initialize(self, news: NewsApplication, secret: str, intake: UpdateIntake) -> None:
        self.news = news
        self.secret = secret
        self.intake = intake
        self._chunks: list[bytes] = []
        self._size = 0
        self._refused = False

    def prepare(self) -> None:
        if self.request.method != "POST":
            self._refuse(405, "only POST")
            return
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            logger.debug("webhook request without the right secret token refused")
            self._refuse(403, "forbidden")
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_UPDATE_BYTES):
            self._refuse(413, "an update is never this large")

    def data_received(self, chunk: bytes) -> None:
        if self._refused:
            return  # read and dropped: a refused body is never held
        self._size += len(chunk)
        if self._size > MAX_UPDATE_BYTES:
            self._chunks.clear()
            self._refuse(413, "an update is never this large")
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        if self._refused:
            return
        try:
            data = json.loads(b"".join(self._chunks).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._reply(400, "not a JSON update")
            return
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int):
            self._reply(400, "not a Telegram update")
            return
        journal = self.intake.journal
        if journal.known(update_id):
            logger.info("update %d delivered again; taken once already", update_id)
            self._reply(200, "ok")
            return
        update = read_update(data, self.news.bot)
        if update is None:
            self._reply(200, "ok")  # acknowledged, or Telegram would deliver it again and again
            return
        await self.intake.put(update)  # waits while the intake is full
        await asyncio.to_thread(journal.sync)  # on disk before Telegram forgets it
        self._reply(200, "ok")

    def _refuse(self, status: int, reason: str) -> None:
        self._refused = True
        self._reply(status, reason)

    def _reply(self, status: int, reason: str) -> None:
        if self._finished:
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": status == 200, "description": reason}))


class WebhookServer:
    """Serves ``url_path`` on ``listen:port`` and tells Telegram to post there."""

    def __init__(
        self,
        application: NewsApplication,
        *,
        listen: str,
        port: int,
        url_path: str,
        url: str,
        secret: str,
        allowed_updates: list[str],
        max_connections: int,
    ) -> None:
        self.application = application
        self.listen, self.port, self.url = listen, port, url
        self.secret = secret
        self.allowed_updates = allowed_updates
        self.max_connections = max_connections
        intake = application.update_queue
        if not isinstance(intake, UpdateIntake):
            raise TypeError("the webhook feeds Newsdesk's UpdateIntake")
        routes: list[Any] = [
            (
                rf"/{url_path.strip('/')}/?",
                UpdateReceiver,
                {"news": application, "secret": secret, "intake": intake},
            )
        ]
        self._server = HTTPServer(WebApplication(routes), max_body_size=MAX_UPDATE_BYTES * 100)

    async def start(self) -> None:
        self._server.listen(self.port, address=self.listen)
        await self.application.bot.set_webhook(
            self.url,
            secret_token=self.secret,
            allowed_updates=self.allowed_updates,
            max_connections=self.max_connections,
        )
        logger.info("webhook listening on %s:%d", self.listen, self.port)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
