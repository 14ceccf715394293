"""A small fake Telegram Bot API on 127.0.0.1, so the real bot can be tested with no network.

It answers the methods python-telegram-bot calls, the way Telegram documents them
(``{"ok": true, "result": ...}``), records every call for the test to read, and serves updates
the test pushes through ``getUpdates`` long polling. ``sendMessage`` checks what Telegram checks:
the 4,096-character limit and well-formed HTML, answering 400 otherwise, as Telegram would.

``fail_next`` makes it misbehave the way the real one sometimes does: 429 with ``retry_after``,
502, or a request that hangs past the client's timeout. A faulted request is never delivered;
it is kept in ``faulted``, apart from ``calls``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from workshop.fake_telegram.rules import MAX_MESSAGE_CHARS, ApiCall, html_problem

BOT_ID = 777000111
BOT_USERNAME = "newsdesk_test_bot"
LONG_POLL_CAP_SECONDS = 0.5  # answer empty polls quickly so the bot stops fast


class Fault(Enum):
    """How the fake answers a request it was told to fail."""

    RATE_LIMIT = "429"  # Too Many Requests, with parameters.retry_after
    BAD_GATEWAY = "502"
    HANG = "hang"  # no answer until long after the client gave up
    SLOW = "slow"  # delivered at once, but answered only long after the client gave up


@dataclass(frozen=True)
class _PlannedFault:
    fault: Fault
    retry_after: int
    hang_seconds: float


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, deque[_PlannedFault]] = field(default_factory=dict)
    faulted: list[tuple[Fault, ApiCall]] = field(default_factory=list)
    handed_at: dict[int, float] = field(default_factory=dict)  # update id -> first getUpdates
    offset: int = 0  # the highest getUpdates offset seen: updates below it are acknowledged
    files: dict[str, bytes] = field(default_factory=dict)  # documents sent, by file id


class FakeBotApi:
    """The fake server; use as a context manager, then read ``base_url`` and ``calls``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._state = _State()
        self._changed = threading.Condition()
        self._closing = threading.Event()  # releases hanging requests when the server stops
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what the test does -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        count: int,
        fault: Fault,
        *,
        retry_after: int = 1,
        hang_seconds: float = 5.0,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with ``fault`` instead of serving them."""
        planned = _PlannedFault(fault, retry_after, hang_seconds)
        with self._changed:
            self._state.faults.setdefault(method, deque()).extend([planned] * count)

    def pending_updates(self) -> list[int]:
        """Ids of the updates the bot has not yet acknowledged (by a later getUpdates offset)."""
        with self._changed:
            return [
                u["update_id"] for u in self._state.updates if u["update_id"] >= self._state.offset
            ]

    def clear_faults(self) -> None:
        """Serve every call again (the faults planned and not yet used are dropped)."""
        with self._changed:
            self._state.faults.clear()

    @property
    def faulted(self) -> list[tuple[Fault, ApiCall]]:
        """The requests answered with a fault (never delivered), in order."""
        with self._changed:
            return list(self._state.faulted)

    @property
    def calls(self) -> list[ApiCall]:
        with self._changed:
            return list(self._state.calls)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        return [
            call
            for call in self.calls
            if call.method == method
            and (chat_id is None or call.params.get("chat_id") == str(chat_id))
        ]

    def calls_after(self, seen: int, timeout: float) -> list[ApiCall]:
        """The calls after the first ``seen``, waiting up to ``timeout`` s for one to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._state.calls) <= seen and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return self._state.calls[seen:]

    def handed_at(self, update_id: int) -> float | None:
        """When ``getUpdates`` first returned this update to the bot (None: not yet)."""
        with self._changed:
            return self._state.handed_at.get(update_id)

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [call.params["text"] for call in self.calls_to("sendMessage", chat_id)]

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 10.0, settle: float = 0.0
    ) -> None:
        """Wait until ``condition()`` holds (then ``settle`` seconds more, to catch extras)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; calls so far: {self._state.calls}")
                self._changed.wait(left)
        if settle:
            time.sleep(settle)

    def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 10.0, settle: float = 0.0
    ) -> list[str]:
        self.wait_for(lambda: len(self.sent_texts(chat_id)) >= count, timeout, settle)
        return self.sent_texts(chat_id)

    def push_message(
        self,
        text: str,
        *,
        chat_id: int,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> int:
        """Queue a text message update; bot commands and @mentions get their entities."""
        user_id = chat_id if user_id is None else user_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, chat_type),
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "text": text,
        }
        entities = [
            {"type": "bot_command" if m.group().startswith("/") else "mention",
             "offset": m.start(), "length": len(m.group())}
            for m in re.finditer(r"^/[A-Za-z0-9_@]+|@[A-Za-z0-9_]{5,}", text)
        ]  # fmt: skip
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            with self._changed:
                message["reply_to_message"] = self._state.messages[reply_to_message_id]
        return self._push({"message": message})

    def push_document(
        self, file_name: str, data: bytes, *, chat_id: int, user_id: int | None = None
    ) -> int:
        """Queue a document sent in a private chat; the bot fetches it with getFile."""
        file_id = f"doc{next(self._message_ids)}"
        with self._changed:
            self._state.files[file_id] = data
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, "private"),
            "from": {"id": chat_id if user_id is None else user_id, "is_bot": False,
                     "first_name": "Sender"},
            "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": file_name,
                         "file_size": len(data)},
        }  # fmt: skip
        return self._push({"message": message})

    def push_callback(self, data: str, *, message_id: int, chat_id: int, user_id: int) -> int:
        """Queue a button press on the bot's message ``message_id``."""
        with self._changed:
            stored = self._state.messages.get(message_id)
            if stored is not None and stored["chat"]["id"] != chat_id:
                stored = None  # a message of another chat: the press happens in ``chat_id``
            message = stored or {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id, "private" if chat_id > 0 else "group"),
                "from": self._me(),
                "text": "?",
            }
        query = {
            "id": f"cq{next(self._update_ids)}",
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        }
        return self._push({"callback_query": query})

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue an update as given (a malformed one, as Telegram has been seen to send)."""
        return self._push(update)

    def last_message_id(self, chat_id: int) -> int:
        with self._changed:
            ids = [
                m["message_id"] for m in self._state.messages.values() if m["chat"]["id"] == chat_id
            ]
        return ids[-1]

    def markup_of(self, call: ApiCall) -> dict[str, Any] | None:
        raw = call.params.get("reply_markup")
        return json.loads(raw) if raw else None

    # --- the server side ----------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> int:
        with self._changed:
            update_id = next(self._update_ids)
            self._state.updates.append({"update_id": update_id, **update})
            self._changed.notify_all()
        return update_id

    def _me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Newsdesk",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", "0") or 0)
        timeout = min(float(params.get("timeout", "0") or 0), LONG_POLL_CAP_SECONDS)
        deadline = time.monotonic() + timeout
        with self._changed:
            self._state.offset = max(self._state.offset, offset)
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            while not self._state.updates and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            handed = self._state.updates[: int(params.get("limit", "100") or 100)]
            now = time.monotonic()
            for update in handed:
                self._state.handed_at.setdefault(update["update_id"], now)
            return list(handed)

    def _send(self, params: dict[str, str]) -> tuple[int, Any]:
        text = params.get("text", "")
        if len(text.encode("utf-16-le")) // 2 > MAX_MESSAGE_CHARS:  # Telegram counts UTF-16
            return 400, "Bad Request: message is too long"
        if params.get("parse_mode", "").upper() == "HTML":
            problem = html_problem(text)
            if problem:
                return 400, f"Bad Request: can't parse entities: {problem}"
        chat_id, message_id = int(params["chat_id"]), next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": self._me(),
            "text": text,
        }
        with self._changed:
            self._state.messages[message_id] = message
        return 200, message

    def _answer(self, method: str, params: dict[str, str]) -> tuple[int, Any]:
        if method == "getMe":
            return 200, self._me()
        if method == "getUpdates":
            return 200, self._get_updates(params)
        if method in ("sendMessage", "editMessageText"):
            return self._send(params)
        if method == "getFile":
            with self._changed:
                data = self._state.files.get(params.get("file_id", ""))
            if data is None:
                return 400, "Bad Request: invalid file_id"
            file_id = params["file_id"]
            return 200, {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data),
                         "file_path": f"documents/{file_id}"}  # fmt: skip
        if method == "getWebhookInfo":
            return 200, {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in (
            "sendChatAction", "answerCallbackQuery", "setMyCommands", "deleteWebhook",
            "close", "logOut", "setWebhook",
        ):  # fmt: skip
            return 200, True
        return 404, "Not Found: method not found"

    def _handle(self, path: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        if content_type.startswith("application/json"):
            decoded = json.loads(body or b"{}")
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
        else:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        with self._changed:
            planned = self._state.faults.get(method)
            fault = planned.popleft() if planned else None
            if fault is not None:
                self._state.faulted.append((fault.fault, ApiCall(method, params)))
                self._changed.notify_all()
        if fault is not None and fault.fault is not Fault.SLOW:
            return self._fail(fault)
        status, result = self._answer(method, params)
        if method != "getUpdates" or result:
            with self._changed:
                self._state.calls.append(ApiCall(method, params))
                self._changed.notify_all()
        if fault is not None:  # slow: the message is delivered, the answer comes too late
            self._closing.wait(fault.hang_seconds)
        if status != 200:
            return status, {"ok": False, "error_code": status, "description": result}
        return 200, {"ok": True, "result": result}

    def _fail(self, planned: _PlannedFault) -> tuple[int, dict[str, Any]]:
        if planned.fault is Fault.RATE_LIMIT:
            wait = planned.retry_after
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
        if planned.fault is Fault.HANG:
            self._closing.wait(planned.hang_seconds)  # the client has hung up long before
            return 504, {"ok": False, "error_code": 504, "description": "Gateway Timeout"}
        return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; with Nagle on, the body waits for the
            # client's delayed ACK (40 ms on Linux), which Telegram's servers do not add.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if unquote(self.path).startswith(f"/file/bot{api.token}/documents/"):
                    self._send_file(self.path.rsplit("/", 1)[1])
                    return
                status, payload = api._handle(self.path, body, self.headers.get("Content-Type", ""))
                data = json.dumps(payload).encode("utf-8")
                self.send_response(HTTPStatus(status))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def _send_file(self, file_id: str) -> None:
                with api._changed:
                    data = api._state.files.get(file_id)
                if data is None:
                    self.send_response(HTTPStatus.NOT_FOUND)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test reads ``calls``; request lines would only add noise

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-poll (the bot stopping) is normal here, not worth a trace."""


def _chat(chat_id: int, chat_type: str) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = f"User{chat_id}"
    else:
        chat["title"] = f"Group {chat_id}"
    return chat
