"""``newsdesk bench load``: the real Telegram bot under many chats, against a fake Bot API.

The bot (the real ``Application`` and ``Engine``) runs in this process; the fake Bot API and
the users run in a child process (``workshop.bench.load_users``), as Telegram and its users would.
Every reply is checked against the answer the engine gives in-process, which also gives the
in-process rate to compare with. The bench works on a copy of the seeds in a temporary folder,
never on the user's index.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.render import render_answer
from workshop.bench.load_users import (
    ADMIN_CHAT,
    SEED_QUESTIONS,
    Plan,
    Tally,
    extra_article,
    serve_users,
)
from workshop.bench.measure import (
    ms,
    peak_memory_mb,
    peak_memory_since_reset_mb,
    percentile,
    reset_peak_memory,
)
from workshop.fake_telegram.running import serving

FAKE_TOKEN = "123456:BENCHTOKEN-abcdefghijklmnopqrstuvwxyz"
USERS_START_SECONDS = 60.0  # for the child process to import and start the fake server
RUN_LIMIT_SECONDS = 1800.0


class LoadBenchError(RuntimeError):
    """The users' process did not start or did not report back."""


def in_process_rate(engine: Engine, questions: list[str]) -> float:
    """Answers per second of ``ask --file``'s loop: ask, then serialise, one after another."""
    started = time.perf_counter()
    for question in questions:
        json.dumps(engine.ask(question).to_dict(), ensure_ascii=False)
    return len(questions) / (time.perf_counter() - started)


def expected_replies(engine: Engine) -> dict[str, str]:
    """The text the bot must send for each seed question, from the engine's current index."""
    return {question: render_answer(engine.ask(question))[-1] for question in SEED_QUESTIONS}


def future_replies(engine: Engine, work: Path, reindexes: int) -> list[dict[str, str]]:
    """The expected replies from each index the run will swap in, built beforehand.

    Built on a twin of the seeds with the same articles added in the same order, so that the
    run itself spends no time on checking.
    """
    setup = replace(engine.setup, seeds_dir=work / "future-seeds", index_dir=work / "future-index")
    shutil.copytree(engine.setup.seeds_dir, setup.seeds_dir, symlinks=True)
    twin = Engine.load(setup, build_missing=True, embedder=engine.embedder)
    replies = []
    for number in range(reindexes):
        extra = extra_article(number)
        (setup.seeds_dir / extra.file_name).write_text(extra.text, encoding="utf-8")
        twin.reindex()
        replies.append(expected_replies(twin))
    return replies


def run_load_bench(
    settings: Settings,
    *,
    chats: int = 50,
    questions_per_chat: int = 20,
    reindexes: int = 3,
    sends_per_second: int = 0,
) -> dict[str, Any]:
    """Ask ``chats`` times ``questions_per_chat`` questions through the bot; return the figures.

    ``sends_per_second`` is the bot-wide request cap (``TELEGRAM_SENDS_PER_SECOND``); the fake
    server has no flood limit, so 0 measures what the bot itself can do.
    """
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as work:
        seeds = Path(work) / "seeds"
        shutil.copytree(settings.seeds_dir, seeds, symlinks=True)
        bench_settings = settings.model_copy(
            update={
                "seeds_dir": seeds,
                "index_dir": Path(work) / "index",
                "telegram_bot_token": SecretStr(FAKE_TOKEN),
                "allowed_user_ids": frozenset(),
                "allowed_chat_ids": frozenset(),
                "admin_user_ids": frozenset({ADMIN_CHAT}),
                "rate_limit_per_minute": questions_per_chat + 1,
                "telegram_sends_per_second": sends_per_second,
                "webhook_url": None,
            }
        )
        engine = Engine.load(bench_settings.index_setup(), build_missing=True)
        asked = [
            SEED_QUESTIONS[(chat + number) % len(SEED_QUESTIONS)]
            for chat in range(chats)
            for number in range(questions_per_chat)
        ]
        expected = [expected_replies(engine), *future_replies(engine, Path(work), reindexes)]
        in_process_before = in_process_rate(engine, asked)
        plan = Plan(
            token=FAKE_TOKEN,
            questions=[
                asked[n * questions_per_chat : (n + 1) * questions_per_chat] for n in range(chats)
            ],
            expected=expected,
            seeds=seeds,
        )
        with users_process(plan) as (conn, base_url):
            bot_settings = bench_settings.model_copy(update={"telegram_base_url": base_url})
            measured = reset_peak_memory()
            with serving(build_application(bot_settings, engine)):
                conn.send("go")
                tally: Tally = _receive(conn, RUN_LIMIT_SECONDS)
            run_peak = peak_memory_since_reset_mb() if measured else math.nan
        # Measured again after the run (on the last index), against drift on a shared machine.
        in_process_after = in_process_rate(engine, asked)
    in_process = (in_process_before + in_process_after) / 2
    telegram_rate = len(tally.taken) / tally.seconds
    return {
        "updates": chats * questions_per_chat,
        "answered_once": max(0, len(tally.taken) - tally.wrong - tally.duplicated),
        "missing": tally.missing,
        "duplicated": tally.duplicated,
        "wrong": tally.wrong,
        "max_in_flight": settings.telegram_max_in_flight,
        "sends_per_second_cap": sends_per_second,
        "latency_p50_ms": ms(percentile(tally.taken, 50), 1),
        "latency_p95_ms": ms(percentile(tally.taken, 95), 1),
        "latency_max_ms": ms(max(tally.taken, default=math.nan), 1),
        "user_wait_p50_ms": ms(percentile(tally.waited, 50), 1),
        "user_wait_p95_ms": ms(percentile(tally.waited, 95), 1),
        "telegram_answers_per_second": round(telegram_rate, 1),
        "in_process_answers_per_second": round(in_process, 1),
        "in_process_before_after": [round(in_process_before, 1), round(in_process_after, 1)],
        "throughput_ratio": round(telegram_rate / in_process, 3),
        "reindexes": len(tally.reindex_seconds),
        "reindex_seconds": [round(s, 2) for s in tally.reindex_seconds],
        "new_article_answered": f"{tally.probes_right}/{tally.probes_asked}",
        "run_peak_memory_mb": round(run_peak, 1),
        "process_peak_memory_mb": round(peak_memory_mb(), 1),
    }


@contextmanager
def users_process(plan: Plan) -> Iterator[tuple[Connection, str]]:
    """Start the users' process; yield the connection to it and the fake Bot API's URL."""
    conn, child_conn = multiprocessing.Pipe()
    # "spawn": a fresh interpreter, not a fork of this one with torch's threads in it.
    child = multiprocessing.get_context("spawn").Process(
        target=serve_users, args=(child_conn, plan), name="newsdesk-load-users", daemon=True
    )
    child.start()
    try:
        base_url = _receive(conn, USERS_START_SECONDS)
        yield conn, str(base_url)
        conn.send("done")
        child.join(10)
    finally:
        if child.is_alive():
            child.terminate()
        conn.close()


def _receive(conn: Connection, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise LoadBenchError(f"the users' process sent nothing for {timeout:.0f} s")
    return conn.recv()


def format_load_bench(figures: dict[str, Any]) -> str:
    """The figures as a few lines a person reads (targets from issue 5 in brackets)."""
    cap = figures["sends_per_second_cap"]
    return "\n".join(
        [
            f"updates: {figures['updates']}; answered exactly once: {figures['answered_once']} "
            f"(missing {figures['missing']}, duplicated {figures['duplicated']}, "
            f"wrong {figures['wrong']}) [target: all]",
            f"taken by the bot -> sendMessage: p50 {figures['latency_p50_ms']} ms, "
            f"p95 {figures['latency_p95_ms']} ms [target <= 250], "
            f"max {figures['latency_max_ms']} ms "
            f"(at most {figures['max_in_flight']} updates taken at once)",
            f"sent by the user -> sendMessage: p50 {figures['user_wait_p50_ms']} ms, "
            f"p95 {figures['user_wait_p95_ms']} ms (every chat always waiting on one answer)",
            f"answers/s: Telegram path {figures['telegram_answers_per_second']}, in-process "
            f"(ask --file) {figures['in_process_answers_per_second']} (mean of "
            f"{' and '.join(map(str, figures['in_process_before_after']))} before and after), "
            f"ratio "
            f"{figures['throughput_ratio']} [target >= 0.8]; bot-wide send cap "
            + (f"{cap}/s" if cap else "off (the fake Bot API has no flood limit)"),
            f"/reindex under load: {figures['reindexes']} swaps, "
            f"{', '.join(f'{s} s' for s in figures['reindex_seconds']) or '-'}; "
            f"new article answered after each: {figures['new_article_answered']}",
            f"peak memory of the bot during the run: {figures['run_peak_memory_mb']} MB "
            f"(the process's peak, index builds included: "
            f"{figures['process_peak_memory_mb']} MB)",
        ]
    )
