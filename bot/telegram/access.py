"""Who may talk to the bot, who may run admin commands, and how fast anyone may ask.

Pure bookkeeping with no Telegram types, so the rules are easy to read and to test. Everything
here is used from the event loop only, which is why there are no locks.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0
# One refusal per user per hour: a refused user who keeps typing hears nothing more.
REFUSAL_QUIET_SECONDS = 3600.0
_MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Access:
    """The allowlists and admins from the settings; an empty allowlist lets everyone in."""

    allowed_user_ids: frozenset[int] = frozenset()
    allowed_chat_ids: frozenset[int] = frozenset()
    admin_user_ids: frozenset[int] = frozenset()

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """Both lists must admit the update: a listed user in an unlisted group is refused.

        Admins always pass the user list (not the chat list), so they can reach their own bot.
        """
        user_ok = not self.allowed_user_ids or (
            user_id is not None
            and (user_id in self.allowed_user_ids or user_id in self.admin_user_ids)
        )
        chat_ok = not self.allowed_chat_ids or (
            chat_id is not None and chat_id in self.allowed_chat_ids
        )
        return user_ok and chat_ok

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_user_ids


class Verdict(enum.Enum):
    ASK = "ask"  # answer the question
    WARN = "warn"  # over the limit: say "slow down" once
    QUIET = "quiet"  # still over the limit and already warned: say nothing


@dataclass
class _Window:
    asked: deque[float] = field(default_factory=deque)
    warned: bool = False


class QuestionLimiter:
    """At most ``per_minute`` questions per user in any sliding minute.

    The first question over the limit gets a warning, later ones are ignored until the window
    frees up, so a user who floods the bot gets one message back, not one per question.
    """

    def __init__(self, per_minute: int, window_seconds: float = WINDOW_SECONDS) -> None:
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self._windows: OrderedDict[int, _Window] = OrderedDict()

    def check(self, user_id: int, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        window = self._windows.pop(user_id, None) or _Window()
        self._windows[user_id] = window  # most recently seen last, for the bound below
        while len(self._windows) > _MAX_TRACKED:
            self._windows.popitem(last=False)
        while window.asked and now - window.asked[0] >= self.window_seconds:
            window.asked.popleft()
        if len(window.asked) < self.per_minute:
            window.asked.append(now)
            window.warned = False
            return Verdict.ASK
        if window.warned:
            return Verdict.QUIET
        window.warned = True
        return Verdict.WARN

    def seconds_until_free(self, user_id: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        window = self._windows.get(user_id)
        if window is None or not window.asked:
            return 0.0
        return max(0.0, self.window_seconds - (now - window.asked[0]))


class RefusalMemory:
    """Remembers whom the bot refused lately, so each stranger hears "no" once, not always."""

    def __init__(self, quiet_seconds: float = REFUSAL_QUIET_SECONDS) -> None:
        self.quiet_seconds = quiet_seconds
        self._refused: OrderedDict[tuple[int | None, int | None], float] = OrderedDict()

    def should_refuse(
        self, user_id: int | None, chat_id: int | None, now: float | None = None
    ) -> bool:
        now = time.monotonic() if now is None else now
        key = (user_id, chat_id)
        last = self._refused.get(key)
        if last is not None and now - last < self.quiet_seconds:
            return False
        self._refused.pop(key, None)
        self._refused[key] = now
        while len(self._refused) > _MAX_TRACKED:
            self._refused.popitem(last=False)
        return True
