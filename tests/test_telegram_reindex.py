"""/reindex when things go wrong: the bot stopped mid-reindex, an index folder it cannot write.

Either way the live index stays as it was and the admin reads one line, never the generic
apology.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from bot.engine import Engine
from index.analysis.embedder import Embedder
from tests.conftest import SEED_ARTICLE
from tests.test_telegram import ADMIN, bot_settings, engine_over, make_seeds, running_bot
from tests.test_telegram_delivery import bot_environment, bot_process
from workshop.fake_telegram.server import FakeBotApi

BUILD_LOCK = ".build.lock"


def test_sigterm_during_a_reindex_stops_within_seconds_and_keeps_the_index(
    api: FakeBotApi, seed_engine: Engine, tmp_path: Path
) -> None:
    """A reindex of 300 new articles takes a minute here; SIGTERM stops the bot in a few
    seconds (it waited for the whole reindex, 80 s in the report), and ``current`` still names
    the old build."""
    env = bot_environment(api, seed_engine, tmp_path)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_ARTICLE, seeds / SEED_ARTICLE.name)
    for number in range(300):
        sentences = " ".join(
            f"Council {number} voted on road plan {part} on Monday, its clerk said."
            for part in range(12)
        )
        (seeds / f"council-{number:03d}.txt").write_text(
            f"Council {number} meets\n\n{sentences}\n", encoding="utf-8"
        )
    env |= {"SEEDS_DIR": str(seeds), "ADMIN_USER_IDS": str(ADMIN)}
    current = Path(env["INDEX_DIR"]) / "current"
    before = os.readlink(current)
    log = tmp_path / "bot.log"
    with bot_process(env, log) as bot:
        api.wait_for(lambda: bool(api.calls_to("setMyCommands")), timeout=60)
        api.push_message("/reindex", chat_id=ADMIN)
        api.wait_for_messages(ADMIN, 1, timeout=30)
        time.sleep(2)  # well into embedding the new articles
        assert bot.poll() is None
        asked = time.monotonic()
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=60)
        stopped_in = time.monotonic() - asked
    assert stopped_in < 10, log.read_text()
    assert os.readlink(current) == before
    assert "Traceback" not in log.read_text()
    # A build cut off mid-way may leave its staging folder, as a crash would: the next build
    # removes it (tests/test_builder.py); the live index is the one before.


def test_a_reindex_that_cannot_write_the_index_folder_says_so(
    api: FakeBotApi, embedder: Embedder, tmp_path: Path
) -> None:
    """An index folder the build cannot write (its lock is a folder here; as root no mode bit
    stops a write): "Reindex failed, the index is unchanged", not the generic apology."""
    own_engine = engine_over(make_seeds(tmp_path / "seeds"), tmp_path / "index", embedder)
    lock = tmp_path / "index" / BUILD_LOCK
    lock.unlink(missing_ok=True)
    lock.mkdir()
    with running_bot(bot_settings(api, own_engine), own_engine):
        api.push_message("/reindex", chat_id=ADMIN)
        reindex = api.wait_for_messages(ADMIN, 2, timeout=30)
    assert reindex[1].startswith("Reindex failed, the index is unchanged:"), reindex
