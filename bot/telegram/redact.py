"""Keep the bot token (and the webhook secret) out of every log line.

httpx logs each request URL, and the Bot API puts the token in the URL, so at INFO or DEBUG the
token would land in logs. The filter rewrites each record in place before any handler formats
it: the message, its arguments and any traceback text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# Loggers whose own records should be redacted even if a handler is attached to them directly.
_SOURCE_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext")


class SecretRedactingFilter(logging.Filter):
    """Replaces each secret with ``[REDACTED]`` in the records it sees; never drops one."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so the whole token goes before its secret half would.
        # Every secret, however short: the settings make sure none is short enough to matter.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: redact what is there
            message = str(record.msg)
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def token_secrets(token: str) -> list[str]:
    """The token, and its part after the colon, which is the actual secret."""
    return [token, token.partition(":")[2]]


def install_redaction(secrets: Iterable[str]) -> SecretRedactingFilter:
    """Add a redacting filter to every root handler and the chatty library loggers.

    Idempotent for the same secrets, so building several applications does not stack filters.
    """
    redactor = SecretRedactingFilter(secrets)
    targets: list[logging.Handler | logging.Logger] = [*logging.getLogger().handlers]
    targets += [logging.getLogger(name) for name in _SOURCE_LOGGERS]
    for target in targets:
        if not any(
            isinstance(f, SecretRedactingFilter) and f.secrets == redactor.secrets
            for f in target.filters
        ):
            target.addFilter(redactor)
    return redactor
