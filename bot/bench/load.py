"""``newsdesk bench load``: the real Telegram bot under many chats, against a fake Bot API.

The fake server (``bot.bench.fake_bot_api``) runs on 127.0.0.1; the real ``Application`` polls
it. Each chat asks its next question as soon as the answer to the previous one arrives, so all
chats keep the bot busy at once. Every reply is checked against the answer the engine gives
in-process, which also gives the in-process rate to compare with.
"""

from __future__ import annotations

import json
import math
import resource
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bot.bench.fake_bot_api import FakeBotApi, serving
from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.render import render_answer

FAKE_TOKEN = "123456:BENCHTOKEN-abcdefghijklmnopqrstuvwxyz"
FIRST_CHAT = 500_000
STALL_SECONDS = 60.0  # give up when no reply at all arrives for this long
# Twenty different questions about the shipped seed article (seeds/raqqa-2017-10-15.txt).
SEED_QUESTIONS = (
    "How many civilians left?",
    "Who said the final battle could take hours or days?",
    "What did Coalition spokesman Ryan Dillon say?",
    "How many Daesh fighters did the elders persuade to surrender?",
    "Who is Omar Alloush?",
    "How many fighters do US officials think ISIS has in the Middle Euphrates River Valley?",
    "How long did it take the evacuation convoy to reach Deir el-Zour?",
    "What did SANA quote the Foreign Ministry source as saying?",
    "Who posted on Facebook about the liberation of Raqqa?",
    "Which militia dominates the SDF?",
    "When did Raqqa become the capital of the caliphate?",
    "Who will search and screen all people departing Raqqa?",
    "Where is the town with the small pocket of militants?",
    "When did Islamic State fighters agree to be evacuated from the Lebanon-Syria border?",
    "Who supports the Syrian government forces in Deir el-Zour?",
    "What was the terror group's last stronghold in Syria?",
    "When may the city be cleared of the group's fighters?",
    "Who is Armen Petrosyan?",
    "What is the capital of Australia?",
    "Who leads the Syrian Democratic Forces?",
)


@dataclass
class _Chat:
    """One simulated user: the questions left to ask and what came back."""

    chat_id: int
    questions: list[str]
    asked: int = 0
    offered_at: float = 0.0
    replies: list[str] = field(default_factory=list)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def in_process_rate(engine: Engine, questions: list[str]) -> float:
    """Answers per second of ``ask --file``'s loop: ask, then serialise, one after another."""
    started = time.perf_counter()
    for question in questions:
        json.dumps(engine.ask(question).to_dict(), ensure_ascii=False)
    return len(questions) / (time.perf_counter() - started)


def run_load_bench(
    settings: Settings, *, chats: int = 50, questions_per_chat: int = 20
) -> dict[str, Any]:
    """Ask ``chats`` times ``questions_per_chat`` questions through the bot; return the figures."""
    engine = Engine.load(settings, build_missing=True)
    asked = [
        SEED_QUESTIONS[(chat + number) % len(SEED_QUESTIONS)]
        for chat in range(chats)
        for number in range(questions_per_chat)
    ]
    # The in-process answers are both the figure to compare with and the expected replies.
    expected = {question: render_answer(engine.ask(question))[-1] for question in set(asked)}
    in_process = in_process_rate(engine, asked)

    bot_settings = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(FAKE_TOKEN),
            "allowed_user_ids": frozenset(),
            "allowed_chat_ids": frozenset(),
            "rate_limit_per_minute": questions_per_chat + 1,
            "webhook_url": None,
        }
    )
    people = [
        _Chat(FIRST_CHAT + n, asked[n * questions_per_chat : (n + 1) * questions_per_chat])
        for n in range(chats)
    ]
    with FakeBotApi(FAKE_TOKEN) as api:
        bot_settings = bot_settings.model_copy(update={"telegram_base_url": api.base_url})
        with serving(build_application(bot_settings, engine)):
            latencies, wrong, seconds = _drive(api, people, expected)
            time.sleep(1.0)  # late duplicates would arrive now
        counts = [len(api.sent_texts(person.chat_id)) for person in people]
    missing = sum(max(0, questions_per_chat - count) for count in counts)
    duplicated = sum(max(0, count - questions_per_chat) for count in counts)
    telegram_rate = len(latencies) / seconds
    return {
        "updates": chats * questions_per_chat,
        "answered_once": max(0, len(latencies) - wrong - duplicated),
        "missing": missing,
        "duplicated": duplicated,
        "wrong": wrong,
        "latency_p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "latency_max_ms": round(1000 * max(latencies, default=math.nan), 1),
        "telegram_answers_per_second": round(telegram_rate, 1),
        "in_process_answers_per_second": round(in_process, 1),
        "throughput_ratio": round(telegram_rate / in_process, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def _drive(
    api: FakeBotApi, people: list[_Chat], expected: dict[str, str]
) -> tuple[list[float], int, float]:
    """Ask every chat's first question, then each next one when its reply arrives.

    Returns the update-to-sendMessage latencies, how many replies were not the expected answer,
    and the seconds from the first question to the last reply.
    """
    by_chat = {person.chat_id: person for person in people}
    latencies: list[float] = []
    wrong, seen = 0, 0
    started = time.monotonic()
    last_reply = started
    for person in people:
        _ask_next(api, person)
    pending = sum(len(person.questions) for person in people)
    while len(latencies) < pending:
        calls = api.calls_after(seen, timeout=1.0)
        seen += len(calls)
        fresh = [call for call in calls if call.method == "sendMessage"]
        for call in fresh:
            chat = by_chat.get(int(call.params["chat_id"]))
            if chat is None:
                continue
            chat.replies.append(call.params.get("text", ""))
            if len(chat.replies) > chat.asked:
                continue  # a second reply to one question: counted as duplicated at the end
            latencies.append(call.at - chat.offered_at)
            wrong += chat.replies[-1] != expected[chat.questions[chat.asked - 1]]
            last_reply = call.at
            if chat.asked < len(chat.questions):
                _ask_next(api, chat)
        if not fresh and time.monotonic() - last_reply > STALL_SECONDS:
            break
    return latencies, wrong, last_reply - started


def _ask_next(api: FakeBotApi, person: _Chat) -> None:
    person.offered_at = time.monotonic()
    api.push_message(person.questions[person.asked], chat_id=person.chat_id)
    person.asked += 1


def format_load_bench(figures: dict[str, Any]) -> str:
    """The figures as a few lines a person reads (targets from issue 5 in brackets)."""
    return "\n".join(
        [
            f"updates: {figures['updates']}; answered exactly once: {figures['answered_once']} "
            f"(missing {figures['missing']}, duplicated {figures['duplicated']}, "
            f"wrong {figures['wrong']}) [target: all]",
            f"update -> sendMessage latency: p50 {figures['latency_p50_ms']} ms, "
            f"p95 {figures['latency_p95_ms']} ms [target <= 250], "
            f"max {figures['latency_max_ms']} ms",
            f"answers/s: Telegram path {figures['telegram_answers_per_second']}, in-process "
            f"(ask --file) {figures['in_process_answers_per_second']}, ratio "
            f"{figures['throughput_ratio']} [target >= 0.8]",
            f"peak memory: {figures['peak_memory_mb']} MB",
        ]
    )
