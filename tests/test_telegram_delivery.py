"""One user never holds up the others, and no update the bot took is lost or answered twice.

The flood and ``/sources`` tests run the real ``Application`` in this process against the fake
Bot API; the SIGKILL tests run ``newsdesk telegram`` as a child process, kill it with SIGKILL
while its answers are on the way, start it again and count every answer per chat.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import build_application
from index.analysis.embedder import Embedder
from tests.conftest import BOT_TOKEN, bot_settings_for
from tests.test_telegram_webhook import SECRET, free_port, post, question_update
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi, Fault

QUESTION = "Who said the final battle could take hours or days?"
FLOODER, ALICE, BOB = 6001, 6002, 6003


def test_a_flood_from_one_user_does_not_hold_up_another(
    api: FakeBotApi, seed_engine: Engine
) -> None:
    """1,500 updates from one user, then one question from another: she is answered within
    seconds (it took 40 s behind 3,000 when updates were taken a few at a time), the bot
    fetches full batches, and the flooder's backlog beyond 20 is dropped unanswered."""
    flood = 1500
    for number in range(flood):
        api.push_message(f"hello {number}", chat_id=FLOODER)
    asked = time.monotonic()
    api.push_message(QUESTION, chat_id=ALICE)
    settings = bot_settings_for(api, seed_engine, rate_limit_per_minute=5)
    with serving(build_application(settings, seed_engine)):
        api.wait_for(lambda: bool(api.sent_texts(ALICE)), timeout=30)
        waited = time.monotonic() - asked
        api.wait_for(lambda: not api.pending_updates(), timeout=30, settle=0.5)
    assert "<b>Mustafa Bali</b>" in api.sent_texts(ALICE)[0]
    assert waited < 10
    assert len(api.calls_to("getUpdates")) <= flood // 100 + 3
    to_flooder = api.sent_texts(FLOODER)
    assert len(to_flooder) <= 5 + 1  # five questions a minute, then one "slow down"
    assert sum("Slow down" in text for text in to_flooder) == 1


@pytest.fixture(scope="module")
def many_articles(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """45 short dated articles: more than one page of /sources."""
    folder = tmp_path_factory.mktemp("many")
    seeds = folder / "seeds"
    seeds.mkdir()
    for number in range(1, 46):
        (seeds / f"story-{number:02d}.txt").write_text(
            f"Harbour story {number:02d}\n\nPosted March {number % 28 + 1}, 2005\n\n"
            f"The harbour board met for the {number}th time on Monday, its chairman said.\n",
            encoding="utf-8",
        )
    settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=folder / "index")
    return Engine.load(settings.index_setup(), build_missing=True, embedder=embedder)


def test_sources_is_one_message_and_counts_against_its_user(
    api: FakeBotApi, many_articles: Engine
) -> None:
    """/sources sends the newest 20 titles in one message (it sent every title, 17 messages
    on 1,848 articles); /sources WORD keeps those whose title holds it; five /sources from one
    user cost five messages, and another user's question is answered meanwhile."""
    settings = bot_settings_for(api, many_articles)
    with serving(build_application(settings, many_articles)):
        for _ in range(5):
            api.push_message("/sources", chat_id=ALICE)
        api.push_message("What did the harbour board do?", chat_id=BOB)
        api.push_message("/sources story 07", chat_id=BOB)
        api.wait_for_messages(BOB, 2, timeout=30)
        listings = api.wait_for_messages(ALICE, 5, timeout=30, settle=0.5)
    assert len(listings) == 5
    listing = listings[0]
    assert listing.startswith("45 articles indexed:")
    assert listing.count("• ") == 20 and "and 25 older" in listing
    assert "/sources WORD" in listing
    [found] = [text for text in api.sent_texts(BOB) if "indexed" in text]
    [answer] = [text for text in api.sent_texts(BOB) if text != found]
    assert "harbour board" in answer.lower()
    assert found.count("• ") == 1 and "Harbour story 07" in found


# --- a bot killed with SIGKILL, and started again ---------------------------------------------


@contextmanager
def bot_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def bot_environment(api: FakeBotApi, seed_engine: Engine, tmp_path: Path) -> dict[str, str]:
    """A bot over a copy of the seed index, keeping its journal in ``tmp_path``."""
    index = tmp_path / "index"
    shutil.copytree(seed_engine.setup.index_dir, index, symlinks=True)
    return {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_BASE_URL": api.base_url,
        "SEEDS_DIR": str(seed_engine.setup.seeds_dir),
        "INDEX_DIR": str(index),
        "TELEGRAM_STATE_DIR": str(tmp_path / "state"),
        "PASSAGE_MAX_WORDS": str(seed_engine.setup.chunking.passage_max_words),
        "LOG_LEVEL": "INFO",
    }


def answers_per_chat(api: FakeBotApi, chats: range) -> list[int]:
    return [sum(QUESTION_ANSWERED in text for text in api.sent_texts(chat)) for chat in chats]


QUESTION_ANSWERED = "Mustafa Bali"


@pytest.mark.parametrize("mode", ["webhook", "polling"])
def test_a_bot_killed_mid_answer_answers_each_update_once_after_a_restart(
    api: FakeBotApi, seed_engine: Engine, tmp_path: Path, mode: str
) -> None:
    """Eight questions taken (acknowledged), the answers on their way, SIGKILL: after a start
    every chat has exactly one answer, and updates Telegram delivers again are not re-answered.
    (The webhook lost 1 of 8 acknowledged updates, and polling re-answered 1-4.)"""
    env = bot_environment(api, seed_engine, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    if mode == "webhook":
        env |= {
            "WEBHOOK_URL": "https://bot.example.org/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
    chats = range(7001, 7009)
    updates = [question_update(number, chat) for number, chat in enumerate(chats, 1)]
    api.fail_next("sendMessage", 1000, Fault.HANG, hang_seconds=60)  # answers never arrive
    log = tmp_path / "bot.log"
    with bot_process(env, log) as first:
        if mode == "webhook":
            api.wait_for(lambda: bool(api.calls_to("setWebhook")), timeout=60)
            assert [post(url, body, SECRET) for body in updates] == [200] * len(updates)
        else:
            for chat in chats:
                api.push_message(QUESTION, chat_id=chat)
            api.wait_for(lambda: not api.pending_updates(), timeout=60)  # acknowledged
        api.wait_for(lambda: len(api.faulted) >= 2, timeout=60)  # answers on their way
        first.kill()
        first.wait()
    api.clear_faults()
    with bot_process(env, log):
        api.wait_for(lambda: all(answers_per_chat(api, chats)), timeout=60)
        if mode == "webhook":  # Telegram delivers them all again: each is known
            assert [post(url, body, SECRET) for body in updates] == [200] * len(updates)
        time.sleep(2)
    assert answers_per_chat(api, chats) == [1] * len(chats), log.read_text()
