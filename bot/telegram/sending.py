"""Requests to the Bot API that survive its bad moments, so no answer is lost to one.

python-telegram-bot's ``AIORateLimiter`` waits out "429 Too Many Requests" for as long as
Telegram says and retries; that is the library's answer and it is kept. It does not retry a
5xx answer or a timeout, which surface as ``NetworkError``: ``RetryingRateLimiter`` adds a
bounded number of retries with exponential backoff for those, and for nothing else (a 400 is
the bot's own mistake and would fail again).

A timeout is not always safe to retry. A request that never reached Telegram (no connection,
a connect or pool timeout) is sent again. One that went out and then lost its answer (a read
or write timeout, a dropped connection) may well have been delivered: sending it again showed
4 of 20 answers twice when sends hung for 7 s, so it is not resent; the read timeout is long
enough (``SEND_TIMEOUT_SECONDS`` in ``app.py``) that only a really stuck request meets it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

logger = logging.getLogger(__name__)

NETWORK_RETRIES = 3  # after the first try: 4 tries, about 3.5 s of backoff in all
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 4.0

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


# httpx errors that mean the request never left: sending it again cannot duplicate it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def is_transient(error: Exception) -> bool:
    """Worth another try: a 5xx answer, or a request that surely never reached Telegram.

    A 400 is the bot's own mistake and would fail again; a read timeout or a connection lost
    after sending may have been delivered, and a second try would show it twice.
    """
    if not isinstance(error, NetworkError) or isinstance(error, BadRequest):
        return False
    cause = error.__cause__
    if isinstance(cause, httpx.HTTPError):
        return isinstance(cause, _NOT_SENT)
    return True  # Telegram answered with a 5xx: it did not take the request


def maybe_delivered(error: Exception) -> bool:
    """A request that went out and lost its answer: it may have arrived, or not."""
    return (
        isinstance(error, NetworkError)
        and not isinstance(error, BadRequest)
        and not is_transient(error)
    )


def backoff_seconds(retry: int, first: float = FIRST_BACKOFF_SECONDS) -> float:
    """Seconds to wait before retry number ``retry`` (0-based): doubling, capped."""
    return float(min(first * 2**retry, MAX_BACKOFF_SECONDS))


class RetryingRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` (flood limits, 429 retries) plus bounded retries of transient errors."""

    def __init__(
        self,
        *,
        max_retries: int,
        overall_max_rate: float = 30,
        network_retries: int = NETWORK_RETRIES,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
    ) -> None:
        super().__init__(max_retries=max_retries, overall_max_rate=overall_max_rate)
        self.network_retries = network_retries
        self.first_backoff = first_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Send through the rate limiter; on a transient error wait and send again."""
        retry = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as error:
                if not is_transient(error) or retry >= self.network_retries:
                    raise
                delay = backoff_seconds(retry, self.first_backoff)
                retry += 1
                logger.warning(
                    "%s failed (%s: %s); retry %d of %d in %.1f s",
                    endpoint,
                    type(error).__name__,
                    error,
                    retry,
                    self.network_retries,
                    delay,
                )
                await asyncio.sleep(delay)
