"""The bot takes updates in full batches, serves users in turn, and loses none it took.

The unit tests drive ``UpdateIntake`` and ``UpdateJournal`` directly; the others run the real
``Application`` against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from telegram import Update

from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.intake import UpdateIntake
from bot.telegram.journal import JOURNAL_FILE, UpdateJournal
from tests.conftest import bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

QUESTION = "Who said the final battle could take hours or days?"


def message_update(update_id: int, user_id: int) -> Update:
    """A private text message from ``user_id``, as Telegram sends it."""
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1700000000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": f"question {update_id}",
        },
    }
    update = Update.de_json(data, None)  # type: ignore[arg-type]
    assert update is not None
    return update


def test_users_are_served_in_turn_with_a_bounded_share_each() -> None:
    """A user's backlog waits behind another user's one question; each user at most
    ``per_user`` in flight; over ``user_backlog`` waiting, a user's updates are dropped."""

    async def scenario() -> tuple[list[int], int, list[int]]:
        intake = UpdateIntake(2, per_user=1, user_backlog=3)
        for update_id in range(1, 6):  # five from user 7: the last two over the backlog
            intake.put_nowait(message_update(update_id, 7))
        intake.put_nowait(message_update(6, 8))  # then one from user 8
        first = [await intake.get(), await intake.get()]  # type: ignore[list-item]
        blocked = asyncio.ensure_future(intake.get())  # 2 in flight: none may start
        await asyncio.sleep(0.01)
        assert not blocked.done()
        intake.finished(first[0])
        after = await asyncio.wait_for(blocked, 1)
        order = [update.update_id for update in [*first, after]]
        return order, intake.dropped, [intake.waiting, intake.in_flight]

    order, dropped, counts = asyncio.run(scenario())
    assert order == [1, 6, 2]  # user 8's question went ahead of user 7's backlog
    assert dropped == 2 and counts == [1, 2]


def test_the_stop_signal_goes_first_and_a_full_intake_pushes_back() -> None:
    """Webhook mode awaits put() before answering Telegram, so a full intake holds it back."""

    async def scenario() -> list[bool]:
        intake = UpdateIntake(1, max_waiting=100)
        for update_id in range(100):
            await intake.put(message_update(update_id, 1000 + update_id))
        extra = asyncio.ensure_future(intake.put(message_update(100, 5)))
        await asyncio.sleep(0.01)
        held = not extra.done()
        stop = object()
        await asyncio.wait_for(intake.put(stop), 1)  # PTB's stop signal goes straight in
        first = await intake.get()
        await intake.get()  # one update out: room for the held one
        await asyncio.wait_for(extra, 1)
        return [held, first is stop, intake.waiting == 100]

    assert asyncio.run(scenario()) == [True, True, True]
    with pytest.raises(ValueError, match="at least 1"):
        UpdateIntake(0)


def test_the_journal_keeps_what_was_taken_until_it_is_done(tmp_path: Path) -> None:
    """Taken, not done: replayed after a restart; any id seen: known, so never taken twice."""
    path = tmp_path / JOURNAL_FILE
    journal = UpdateJournal(path)
    for update_id in (1, 2, 3):
        journal.taken(update_id, {"update_id": update_id, "text": "lone \ud800 surrogate"})
    journal.done(2)
    journal.sync()
    with path.open("ab") as handle:
        handle.write(b'{"taken": {"update_id": 4')  # a line torn by a crash
    journal.close()
    reopened = UpdateJournal(path)
    assert [update["update_id"] for update in reopened.pending()] == [1, 3]
    assert all(reopened.known(update_id) for update_id in (1, 2, 3))
    assert not reopened.known(4) and reopened.durable
    second = UpdateJournal(path)  # another bot on the same folder: works, but not durably
    assert not second.durable
    reopened.close()


def test_the_bot_takes_full_batches_and_answers_each_once(
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
    assert all(int(poll.params["limit"]) == 100 for poll in polls)


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
