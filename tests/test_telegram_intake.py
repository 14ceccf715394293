"""The bot takes from Telegram only what it can work on: bounded intake, nothing lost.

The unit test drives ``UpdateIntake`` directly; the others run the real ``Application`` against
the fake Bot API and read the ``limit`` of every ``getUpdates`` the bot sent.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from telegram import Update

from bot.bench.fake_telegram.running import serving
from bot.bench.fake_telegram.server import FakeBotApi
from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.intake import UpdateIntake
from tests.conftest import bot_settings_for

QUESTION = "Who said the final battle could take hours or days?"


def test_intake_has_room_again_once_half_is_free() -> None:
    async def scenario() -> list[int]:
        intake = UpdateIntake(4)
        rooms = [await intake.room()]
        for update in range(3):
            intake.put_nowait(update)
        waiting = asyncio.ensure_future(intake.room())
        await asyncio.sleep(0.01)
        rooms.append(int(waiting.done()))  # 3 of 4 unfinished: no room yet
        intake.task_done()
        rooms.append(await asyncio.wait_for(waiting, 1))
        return rooms

    assert asyncio.run(scenario()) == [4, 0, 2]
    with pytest.raises(ValueError, match="at least 1"):
        UpdateIntake(0)


def test_a_full_intake_holds_updates_back_but_never_the_stop_signal() -> None:
    """Webhook mode: PTB awaits put() before answering Telegram, so a full intake pushes back."""

    async def scenario() -> list[bool]:
        intake = UpdateIntake(2)
        updates = [Update(update_id) for update_id in range(3)]
        await intake.put(updates[0])
        await intake.put(updates[1])
        third = asyncio.ensure_future(intake.put(updates[2]))
        await asyncio.sleep(0.01)
        held = not third.done()
        await asyncio.wait_for(intake.put(object()), 1)  # PTB's stop signal goes straight in
        intake.task_done()
        intake.task_done()  # two of the three in the queue are done: space again
        await asyncio.wait_for(third, 1)
        return [held, third.done(), intake.unfinished == 2]

    assert asyncio.run(scenario()) == [True, True, True]


def test_the_bot_takes_no_more_updates_than_it_works_on(
    api: FakeBotApi, seed_engine: Engine
) -> None:
    settings = bot_settings_for(api, seed_engine, telegram_max_in_flight=2)
    chats = range(3001, 3009)
    for chat in chats:
        api.push_message(QUESTION, chat_id=chat)
    with serving(build_application(settings, seed_engine)):
        api.wait_for(lambda: len(api.sent_texts()) >= len(chats), timeout=30, settle=0.3)
    for chat in chats:
        [reply] = api.sent_texts(chat)
        assert "<b>Mustafa Bali</b>" in reply
    polls = api.calls_to("getUpdates")  # the fake records the polls that returned updates
    assert len(polls) >= len(chats) // 2
    assert all(0 < int(poll.params["limit"]) <= 2 for poll in polls)


def test_bench_load_runs_end_to_end(seeds: Path, tmp_path: Path) -> None:
    """A tiny ``newsdesk bench load``: the figures are not checked, the bookkeeping is."""
    run = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "load", "--chats", "3", "--questions", "4",
         "--reindexes", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["answered_once"] == 12
    assert (figures["missing"], figures["duplicated"], figures["wrong"]) == (0, 0, 0)
    assert figures["reindexes"] == 1 and figures["new_article_answered"] == "1/1"
    assert sorted(path.name for path in seeds.iterdir()) == ["raqqa-2017-10-15.txt"]
