"""Reaching a Milvus engine: its address, the client, credentials, and one error for every
failure of the client, with no secret in it.

The same client (pymilvus) talks to Milvus Lite (a local ``.db`` file), a Milvus server and a
distributed cluster. Credentials come from ``MilvusAddress.token`` (MILVUS_TOKEN) or from the
URI itself (``https://user:password@host:19530``); either way no message, log or ``repr``
carries them.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from index.errors import Remedy, VectorEngineError

_Result = TypeVar("_Result")

# Query parameters whose value is a secret (``?token=...``), matched case-insensitively.
_SECRET_PARAM = re.compile(
    r"([?&;](?:token|password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth)=)[^&;#]*",
    re.IGNORECASE,
)
HIDDEN = "***"


def redacted_uri(uri: str) -> str:
    """``uri`` fit to print or log: its user and password (``http://***@host:19530``) and any
    secret query parameter (``?token=***``) hidden. Every URI the library words goes through
    here: a cluster's address often carries its credentials (``https://user:password@host``).

    Anything up to the last ``@`` after the scheme counts as credentials, so a password with
    ``/``, ``?`` or ``@`` in it (unescaped, as people type them) is hidden whole; a path with
    ``@`` in a folder's name (``/home/me@work/milvus.db``) is left as it is.
    """
    scheme, separator, rest = uri.partition("://")
    if not separator:
        scheme, rest = "", uri
    if "@" in rest and (separator or "/" not in rest.rpartition("@")[0]):
        rest = f"{HIDDEN}@{rest.rpartition('@')[2]}"
    return scheme + separator + _SECRET_PARAM.sub(rf"\1{HIDDEN}", rest)


@dataclass(frozen=True, repr=False)
class MilvusAddress:
    """Where the engine is: a Milvus Lite file (``/path/milvus.db``) or a server's URI
    (``http://host:19530``), and the token a cluster wants (``user:password``, or none)."""

    uri: str
    token: str = ""
    # Seconds to connect, and for a search or a count, before the engine counts as unreachable
    # (filling and loading a collection take as long as they take).
    timeout: float = 10.0

    @property
    def shown(self) -> str:
        """The URI as messages and logs give it: without its credentials."""
        return redacted_uri(self.uri)

    def __repr__(self) -> str:  # a logged or traced address keeps its secrets too
        token = HIDDEN if self.token else ""
        return f"MilvusAddress(uri={self.shown!r}, token={token!r}, timeout={self.timeout})"


def connection(address: MilvusAddress) -> tuple[str, str]:
    """The URI and token to connect with: a user and password written in the URI
    (``http://user:password@host``) are taken out of it and become the token, unless
    ``address.token`` is set, which wins (pymilvus would pass the URI on as it is, and quote
    it in its errors)."""
    if "://" not in address.uri:
        return address.uri, address.token
    try:
        parts = urlsplit(address.uri)
    except ValueError:
        return address.uri, address.token
    if "@" not in parts.netloc:
        return address.uri, address.token
    userinfo, _, host = parts.netloc.rpartition("@")
    bare = urlunsplit(parts._replace(netloc=host))
    return bare, address.token or unquote(userinfo)


# gRPC servers take a client's keepalive ping at most every 5 minutes unless set otherwise (Milvus
# Lite's server is not); pymilvus pings every 10 s, and such a server, several minutes into one
# long call, closes the connection ("too_many_pings"). Each call's own timeout still bounds a
# dead engine.
_CHANNEL_OPTIONS = {"grpc.keepalive_time_ms": 360_000, "grpc.keepalive_permit_without_calls": 0}


def client_for(address: MilvusAddress) -> Any:
    """A connected ``MilvusClient``; ``VectorEngineError`` when the engine cannot be reached."""
    import_pymilvus()
    from pymilvus import MilvusClient

    uri, token = connection(address)
    with _lite_logs_kept() as kept:
        return guarded(
            address,
            lambda: MilvusClient(
                uri=uri,
                token=token,
                timeout=address.timeout,
                grpc_options=_CHANNEL_OPTIONS,
            ),
            kept,
        )


# pymilvus's own settings, read from the environment (and the ``.env`` it loads) on import.
_PYMILVUS_VARIABLES = ("MILVUS_URI", "MILVUS_DEFAULT_CONNECTION")
_IMPORT_LOCK = threading.Lock()


def import_pymilvus() -> None:
    """Import pymilvus with its reading of ``MILVUS_URI`` turned off.

    On import pymilvus takes ``MILVUS_URI`` as the address of a default connection and raises
    on anything but ``http[s]://host``: Newsdesk's setting of the same name, a Milvus Lite
    ``.db`` path included, stopped every Milvus command with pymilvus's traceback before any
    code here ran. Each client is given its address, so the import sees those variables empty;
    they are put back right after.
    """
    if "pymilvus" in sys.modules:
        return
    with _IMPORT_LOCK:
        saved = {name: os.environ.get(name) for name in _PYMILVUS_VARIABLES}
        os.environ.update(dict.fromkeys(_PYMILVUS_VARIABLES, ""))  # .env never overrides these
        try:
            importlib.import_module("pymilvus")
            logging.getLogger("pymilvus.decorators").addFilter(_demoted)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _demoted(record: logging.LogRecord) -> bool:
    """pymilvus logs each failed call at ERROR with its traceback, then raises: the error is
    ours to word (``guarded``), so its record goes on as DEBUG, kept out of the console."""
    if record.levelno > logging.DEBUG:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    return True


class _Kept(logging.Handler):
    """A handler that keeps what it is given, for the error line to quote."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _lite_logs_kept() -> Iterator[list[logging.LogRecord]]:
    """Milvus Lite's log records while a client opens, kept instead of printed.

    When Milvus Lite cannot open its file (another process holds it) it logs the reason with a
    traceback at ERROR, and pymilvus raises only "Open local milvus failed": the reason goes
    into the one ``VectorEngineError`` line instead of two tracebacks before it.
    """
    logger = logging.getLogger("milvus_lite")
    handler, propagate = _Kept(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def guarded(
    address: MilvusAddress,
    call: Callable[[], _Result],
    logged: Sequence[logging.LogRecord] = (),
) -> _Result:
    """Run ``call``, turning the client's errors into one ``VectorEngineError``; its reason is
    the last exception in ``logged`` (what Milvus Lite logged meanwhile), else the client's."""
    import_pymilvus()
    import grpc  # type: ignore[import-untyped]
    from pymilvus.exceptions import MilvusException

    try:
        return call()
    except (MilvusException, grpc.RpcError) as error:
        told = [str(record.exc_info[1]) for record in logged if record.exc_info]
        reason = (told[-1] if told else "") or _reason(error)
        reason = _without_secrets(reason, address)
        raise VectorEngineError(
            f"the vector engine at {address.shown} failed or cannot be reached ({reason})",
            Remedy.CHECK_ENGINE,
        ) from None


def _reason(error: Exception) -> str:
    """What went wrong, in the client's words: a ``MilvusException``'s message, or a gRPC
    status (a call past its deadline on a server that stopped answering) and its details."""
    code = getattr(error, "code", None)
    if callable(code):  # grpc.RpcError
        details = getattr(error, "details", lambda: "")() or ""
        return f"{code().name}: {details}".rstrip(": ")
    return getattr(error, "message", "") or str(error)


def _without_secrets(text: str, address: MilvusAddress) -> str:
    """A client's message with the address's URI redacted and its token hidden (pymilvus quotes
    the URI it could not use: "uri: https://user:password@host is illegal")."""
    text = text.replace(address.uri, address.shown)
    for secret in {address.token, connection(address)[1]} - {""}:
        text = text.replace(secret, HIDDEN)
    return text


def check_reachable(address: MilvusAddress) -> None:
    """Connect once, so that a build fails before its embedding rather than after it."""
    client_for(address).close()
