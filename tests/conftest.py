"""Shared fixtures: an isolated environment for every test, the real model loaded once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.engine import Engine
from index.analysis.embedder import DEFAULT_MODEL, Embedder, load_embedder
from tests.milvus_fixtures import milvus_engine  # noqa: F401  (a session fixture)
from workshop.fake_telegram.server import FakeBotApi

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = PROJECT_ROOT / "seeds" / "raqqa-2017-10-15.txt"
SHARED = PROJECT_ROOT.parent / "shared"

# Settings a developer may have exported must not leak into tests: every field's variable.
_SETTING_NAMES = tuple(name.upper() for name in Settings.model_fields)
# The token the tests' bots use against the fake Bot API (shaped like a real one).
BOT_TOKEN = "123456:TESTTOKEN-abcdefghijklmnopqrstuvwxyz012"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in its own folder with no Newsdesk settings and no model hub."""
    for name in _SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # Each test's bots keep their own update journal: the fake Bot API numbers updates from 1.
    monkeypatch.setenv("TELEGRAM_STATE_DIR", str(tmp_path / "telegram-state"))
    # No watch on the seeds folder unless a test asks for one (tests/test_watch.py).
    monkeypatch.setenv("WATCH_SECONDS", "0")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def seed_engine(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One engine over the shipped article, shared by the tests that only ask questions."""
    root = tmp_path_factory.mktemp("seed-engine")
    (root / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, root / "seeds" / SEED_ARTICLE.name)
    settings = Settings(_env_file=None, seeds_dir=root / "seeds", index_dir=root / "index")
    engine = Engine.load(settings.index_setup(), build_missing=True, embedder=embedder)
    yield engine
    engine.store.close()


@pytest.fixture
def seeds(tmp_path: Path) -> Iterator[Path]:
    """A seeds folder holding a copy of the shipped article."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    yield folder


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API on 127.0.0.1 for one test."""
    with FakeBotApi(BOT_TOKEN) as server:
        yield server


def bot_settings_for(api: FakeBotApi, engine: Engine, **overrides: Any) -> Settings:
    """Settings of a bot over ``engine``'s index that talks to ``api`` (nothing from the shell).

    Allowlists, admins and the webhook are off unless ``overrides`` set them.
    """
    values: dict[str, Any] = {
        "telegram_bot_token": SecretStr(BOT_TOKEN),
        "telegram_base_url": api.base_url,
        "seeds_dir": engine.setup.seeds_dir,
        "index_dir": engine.setup.index_dir,
        "passage_max_words": engine.setup.chunking.passage_max_words,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
