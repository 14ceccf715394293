"""New articles answered as they arrive: the watch on the seeds folder, /add and index add.

Each test works on its own copy of the seed index (copied, not built: seconds saved), with
the real bot against the fake Bot API or the real CLI in a child process.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import build_application
from index.storage.store import current_build
from tests.conftest import bot_settings_for
from tests.test_update import TUNNEL
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

ADMIN, READER = 8001, 8002
TUNNEL_QUESTION = "How much did the Rotterdam harbour tunnel cost?"
RAQQA_QUESTION = "Who said the final battle could take hours or days?"


@pytest.fixture
def own_engine(seed_engine: Engine, tmp_path: Path) -> Engine:
    """The seed index and seeds, copied into this test's folder and loaded."""
    shutil.copytree(seed_engine.setup.seeds_dir, tmp_path / "seeds")
    shutil.copytree(seed_engine.setup.index_dir, tmp_path / "index", symlinks=True)
    settings = Settings(_env_file=None, seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index")
    return Engine.load(settings.index_setup())


def env_for(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "SEEDS_DIR": str(tmp_path / "seeds"),
        "INDEX_DIR": str(tmp_path / "index"),
        **more,
    }


def test_the_bot_answers_new_changed_and_removed_articles_without_a_restart(
    api: FakeBotApi, own_engine: Engine, tmp_path: Path
) -> None:
    settings = bot_settings_for(
        api, own_engine, watch_seconds=0.5, admin_user_ids=frozenset({ADMIN})
    )
    tunnel = tmp_path / "seeds" / "tunnel.txt"
    with serving(build_application(settings, own_engine)):
        landed = time.monotonic()
        tunnel.write_text(TUNNEL, encoding="utf-8")
        api.wait_for(lambda: any("Index updated" in t for t in api.sent_texts(ADMIN)), timeout=30)
        api.push_message(TUNNEL_QUESTION, chat_id=READER)
        [answer] = api.wait_for_messages(READER, 1, timeout=30)
        answered_in = time.monotonic() - landed
        assert "<b>480 million euros</b>" in answer
        assert api.sent_texts(ADMIN)[0] == "Index updated: 1 article added."
        # Questions asked while the next update runs are answered from a whole index.
        tunnel.write_text(TUNNEL.replace("480 million", "520 million"), encoding="utf-8")
        api.push_message(RAQQA_QUESTION, chat_id=READER)
        api.wait_for(lambda: len(api.sent_texts(ADMIN)) >= 2, timeout=30)
        api.push_message(TUNNEL_QUESTION, chat_id=READER)
        replies = api.wait_for_messages(READER, 3, timeout=30)
        assert "<b>Mustafa Bali</b>" in replies[1]
        assert "<b>520 million euros</b>" in replies[2] and "480" not in replies[2]
        tunnel.unlink()
        api.wait_for(lambda: len(api.sent_texts(ADMIN)) >= 3, timeout=30)
        api.push_message("/sources", chat_id=READER)
        sources = api.wait_for_messages(READER, 4, timeout=30)[3]
    assert api.sent_texts(ADMIN)[1:] == [
        "Index updated: 1 article changed.",
        "Index updated: 1 article removed.",
    ]
    assert "Harbour tunnel" not in sources and "1 article indexed" in sources
    assert answered_in < settings.watch_seconds + 5


def test_admins_add_articles_and_others_are_refused(
    api: FakeBotApi, own_engine: Engine, tmp_path: Path
) -> None:
    settings = bot_settings_for(api, own_engine, admin_user_ids=frozenset({ADMIN}))
    seeds = tmp_path / "seeds"
    before = sorted(path.name for path in seeds.iterdir())
    with serving(build_application(settings, own_engine)):
        api.push_document("../../outside tunnel.TXT", TUNNEL.encode(), chat_id=ADMIN)
        [added] = api.wait_for_messages(ADMIN, 1, timeout=60)
        api.push_document("tunnel.txt", b"Not for you\n\nA stranger's file.\n", chat_id=READER)
        [refused] = api.wait_for_messages(READER, 1, timeout=30)
        api.push_message(TUNNEL_QUESTION, chat_id=READER)
        answer = api.wait_for_messages(READER, 2, timeout=30)[1]
        api.push_message(
            "/add Ferry strike ends in Calais\n\nThe ferry strike in Calais ended on Monday "
            "after nine days, the union said.",
            chat_id=ADMIN,
        )
        second = api.wait_for_messages(ADMIN, 2, timeout=60)[1]
        api.push_document("picture.png", b"\x89PNG", chat_id=ADMIN)
        third = api.wait_for_messages(ADMIN, 3, timeout=30)[2]
    assert added == "added: Harbour tunnel opens in Rotterdam, 2 sentences; ask away"
    assert refused == "Only the bot's admins can use this command."
    assert "<b>480 million euros</b>" in answer
    assert second == "added: Ferry strike ends in Calais, 1 sentences; ask away"
    assert third.startswith("Nothing was added:") and "only .txt, .md" in third
    names = sorted(path.name for path in seeds.iterdir())
    assert names == sorted([*before, "outside-tunnel.txt", "Ferry-strike-ends-in-Calais.txt"])
    assert not (tmp_path / "outside tunnel.TXT").exists()


def test_index_add_keeps_every_file_and_refuses_what_is_no_article(
    own_engine: Engine, tmp_path: Path
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    (incoming / "empty.txt").write_text("", encoding="utf-8")
    taken = TUNNEL.replace("480 million", "470 million")  # the name taken, by another text
    (tmp_path / "seeds" / "tunnel.txt").write_text(taken, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "index", "add", str(incoming / "tunnel.txt"),
         str(incoming / "empty.txt")],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "added: Harbour tunnel opens in Rotterdam, 2 sentences" in run.stdout
    assert "skipped empty.txt" in run.stderr and "Traceback" not in run.stderr
    names = sorted(path.name for path in (tmp_path / "seeds").iterdir())
    assert "tunnel.txt" in names and "tunnel-2.txt" in names and "empty.txt" not in names


def test_the_console_says_what_arrived_between_questions(
    own_engine: Engine, tmp_path: Path
) -> None:
    child = pexpect.spawn(
        sys.executable, ["-m", "bot", "console"], cwd=str(tmp_path),
        env=env_for(tmp_path, WATCH_SECONDS="0.5"), encoding="utf-8", timeout=120,
        dimensions=(40, 200),
    )  # fmt: skip
    try:
        child.expect_exact("newsdesk> ")
        (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        deadline = time.monotonic() + 30
        while current_build(tmp_path / "index") == own_engine.store.folder:
            assert time.monotonic() < deadline, "the console's watch did not update the index"
            time.sleep(0.2)
        time.sleep(2)  # the link is swapped first; the console then opens the new build
        child.sendline(TUNNEL_QUESTION)
        child.expect("480 million euros")
        child.expect_exact("(1 article added)")
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_index_watch_updates_the_index_for_a_bot_elsewhere(
    own_engine: Engine, tmp_path: Path
) -> None:
    """``index watch`` builds; an engine on the same folder answers from its new build."""
    watcher = subprocess.Popen(
        [sys.executable, "-m", "bot", "index", "watch"],
        env=env_for(tmp_path, WATCH_SECONDS="0.5"), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "1 article added"
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)
    assert own_engine.follow_live()
    assert own_engine.ask(TUNNEL_QUESTION).short_answer == "480 million euros"


def test_a_kill_during_updates_leaves_the_live_index_whole(
    own_engine: Engine, tmp_path: Path
) -> None:
    """``index build`` killed at random moments of a tail update, five times: the index still
    loads and answers, and the next update finishes the work."""
    rng = random.Random(7)
    for number in range(5):
        story = TUNNEL.replace("Rotterdam", f"Rotterdam {number}")
        (tmp_path / "seeds" / f"tunnel-{number}.txt").write_text(story, encoding="utf-8")
        build = subprocess.Popen(
            [sys.executable, "-m", "bot", "index", "build"], env=env_for(tmp_path),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.5, 4.0))
        build.kill()
        build.wait()
        assert own_engine.follow_live() in (True, False)
        assert own_engine.ask(RAQQA_QUESTION).short_answer == "Mustafa Bali"
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "index", "build"], env=env_for(tmp_path),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    own_engine.follow_live()
    assert len(own_engine.articles()) == 6
