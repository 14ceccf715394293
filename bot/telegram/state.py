"""What the handlers share, created once at start: the engine, the rules, recent answers and
each chat's memory for follow-up questions.

It lives in ``application.bot_data`` and is reached through ``NewsContext.desk`` (the typed
context of PTB's ``contexttypesbot`` example), never through module globals, so two
applications in one process (as in the tests) never see each other's state.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.conversation import Conversations
from bot.engine import Engine
from bot.feedback import FeedbackLog, feedback_log_of
from bot.telegram.access import Access, QuestionLimiter, RefusalMemory
from bot.telegram.answers import AnswerCache
from index.analysis.embedder import one_thread_per_question
from index.answering.results import Answer

DESK_KEY = "newsdesk"
TYPING_AFTER_SECONDS = 1.0  # an answer slower than this shows "typing…" meanwhile


def question_workers(count: int) -> ThreadPoolExecutor:
    """Threads that answer questions, each on one core (FAISS, the encoder, the answer model)."""
    return ThreadPoolExecutor(
        max_workers=count,
        thread_name_prefix="newsdesk-question",
        initializer=one_thread_per_question,
    )


class EngineNotReadyError(RuntimeError):
    """A handler ran before ``post_init`` loaded the engine (it cannot happen once started)."""


@dataclass
class Desk:
    """Shared state of one running bot."""

    settings: Settings
    access: Access
    limiter: QuestionLimiter
    # As many workers as updates taken at once (TELEGRAM_MAX_IN_FLIGHT), one core each.
    workers: ThreadPoolExecutor
    feedback: FeedbackLog  # the 👍 / 👎 votes, beside the index's builds
    engine: Engine | None = None
    conversations: Conversations = field(default_factory=Conversations)
    answers: AnswerCache = field(default_factory=AnswerCache)
    refusals: RefusalMemory = field(default_factory=RefusalMemory)
    reindex_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)  # a reindex stops early
    reindex_task: asyncio.Task[None] | None = None
    watch_task: asyncio.Task[None] | None = None  # the watch on the seeds folder
    typing_after: float = TYPING_AFTER_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine | None = None) -> Desk:
        access = Access(
            allowed_user_ids=settings.allowed_user_ids,
            allowed_chat_ids=settings.allowed_chat_ids,
            admin_user_ids=settings.admin_user_ids,
        )
        limiter = QuestionLimiter(settings.rate_limit_per_minute)
        workers = question_workers(settings.telegram_max_in_flight)
        conversations = Conversations(settings.follow_up_minutes)
        return cls(
            settings, access, limiter, workers, feedback_log_of(settings), engine, conversations
        )

    async def ask(self, question: str) -> Answer:
        """Answer on a worker thread, so the event loop goes on serving other chats."""
        engine = self.require_engine()
        return await asyncio.get_running_loop().run_in_executor(self.workers, engine.ask, question)

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise EngineNotReadyError("the engine is not loaded yet")
        return self.engine


class NewsContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's callback context with typed access to the ``Desk``."""

    @property
    def desk(self) -> Desk:
        return cast(Desk, self.bot_data[DESK_KEY])

    @property
    def engine(self) -> Engine:
        return self.desk.require_engine()


# The application type every module names; ``Any`` for the job queue, which Newsdesk leaves off.
NewsApplication = Application[
    ExtBot[Any], NewsContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


def desk_of(application: NewsApplication) -> Desk:
    return cast(Desk, application.bot_data[DESK_KEY])
