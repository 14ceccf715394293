"""``newsdesk bench live``: how soon a new article is answered, in a running engine and bot.

Over a copy of the news bench's index (1,848 articles; its seed files hard-linked, so their
stamps match and an update reads only the new files): one new article at a time is written
into the seeds folder and the engine updated as the console's and the bot's watch updates it,
timed from the update's start to the new index answering; the first update is reported apart
(it loads spaCy and dateparser). Then the real bot against the fake Bot API, watching every
``WATCH_SECONDS``: from a file landing to a question about it answered.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.config import Settings
from bot.engine import Engine
from bot.runtime import load_build_embedder
from bot.telegram.app import build_application
from workshop.bench.qa_sets import BENCH_FOLDER, NEWS_ARTICLES, bench_searcher, share_file
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

LIVE_FOLDER = BENCH_FOLDER / "live"
TOKEN = "123456:LIVEBENCH-abcdefghijklmnopqrstuvwxyz0123"
ADMIN, READER = 9001, 9002
TARGETS = {"update_seconds": 2.0, "landed_to_answer_extra_seconds": 5.0}


_PLACES = (
    ("Rotterdam", "harbour tunnel"),
    ("Lyon", "tram line"),
    ("Gdansk", "container terminal"),
    ("Porto", "river bridge"),
    ("Tampere", "concert hall"),
    ("Bilbao", "metro extension"),
    ("Graz", "ring road"),
    ("Malmo", "ferry quay"),
    ("Leipzig", "rail depot"),
    ("Cork", "flood barrier"),
)


def article(number: int) -> tuple[str, str, str]:
    """A new article, a question about it and the short answer it must give."""
    city, project = _PLACES[number % len(_PLACES)]
    cost = 300 + 7 * number
    text = (
        f"New {project} opens in {city}\n\nPosted March 3, 2005\n\n"
        f"The new {project} in {city} opened on Thursday after seven years of work, the "
        f"city's mayor said.\n\nThe {project} cost {cost} million euros and will serve "
        "40,000 people a day, according to the city council.\n"
    )
    return text, f"How much did the new {project} in {city} cost?", f"{cost}"


def run_live_bench(settings: Settings, runs: int = 5, watch_seconds: float = 2.0) -> dict[str, Any]:
    """Time ``runs`` single-article updates and one bot round trip; figures and targets."""
    embedder = load_build_embedder(settings.index_setup())
    bench_searcher("news", NEWS_ARTICLES, settings, embedder).store.close()  # built once
    shutil.rmtree(LIVE_FOLDER, ignore_errors=True)
    seeds, index = LIVE_FOLDER / "seeds", LIVE_FOLDER / "index"
    seeds.mkdir(parents=True)
    for path in sorted(NEWS_ARTICLES.iterdir()):
        if path.suffix == ".txt":
            share_file(path, seeds / path.name)
    shutil.copytree(BENCH_FOLDER / "news" / "index", index, symlinks=True)
    live = settings.model_copy(update={"seeds_dir": seeds, "index_dir": index})
    engine = Engine.load(live.index_setup())  # no model: updates go through the ONNX encoder
    seconds: list[float] = []
    answered = 0
    for number in range(runs + 1):
        text, question, expected = article(number)
        (seeds / f"zz-live-{number}.txt").write_text(text, encoding="utf-8")
        started = time.perf_counter()
        engine.reindex()
        seconds.append(time.perf_counter() - started)
        answer = engine.ask(question)
        answered += expected in (answer.short_answer or "")
    bot_seconds, bot_answered = _bot_round_trip(live, engine, watch_seconds, runs + 1)
    figures = {
        "articles": engine.store.manifest.counts["articles"],
        "sentences": engine.store.sentence_count,
        "first_update_seconds": round(seconds[0], 3),
        "update_seconds_median": round(statistics.median(seconds[1:]), 3),
        "update_seconds_max": round(max(seconds[1:]), 3),
        "answered": f"{answered}/{runs + 1}",
        "watch_seconds": watch_seconds,
        "landed_to_answer_seconds": round(bot_seconds, 3),
        "bot_answered": bot_answered,
    }
    engine.store.close()
    return figures


def _bot_round_trip(
    settings: Settings, engine: Engine, watch_seconds: float, number: int
) -> tuple[float, bool]:
    """A file landing in the watched seeds folder, then a question about it to the real bot."""
    text, question, expected = article(number)
    with FakeBotApi(TOKEN) as api:
        bot_settings = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(TOKEN),
                "telegram_base_url": api.base_url,
                "watch_seconds": watch_seconds,
                "admin_user_ids": frozenset({ADMIN}),
            }
        )
        with serving(build_application(bot_settings, engine)):
            time.sleep(1.0)  # the watch's first look has run
            landed = time.monotonic()
            (Path(settings.seeds_dir) / f"zz-live-{number}.txt").write_text(text, encoding="utf-8")
            api.wait_for(lambda: bool(api.sent_texts(ADMIN)), timeout=60)
            api.push_message(question, chat_id=READER)
            [reply] = api.wait_for_messages(READER, 1, timeout=60)
            return time.monotonic() - landed, expected in reply


def format_live_bench(figures: dict[str, Any]) -> str:
    target, extra = TARGETS["update_seconds"], TARGETS["landed_to_answer_extra_seconds"]
    landed_target = figures["watch_seconds"] + extra
    return "\n".join(
        [
            f"live: one new article at a time into {figures['articles']} articles "
            f"({figures['sentences']} sentences), the engine updated as the watch updates it",
            f"  first update (loads spaCy, dateparser)  {figures['first_update_seconds']:.2f} s",
            f"  update, median of the rest  {figures['update_seconds_median']:.2f} s "
            f"(max {figures['update_seconds_max']:.2f} s; target <= {target:.0f} s; "
            f"{figures['update_seconds_median'] / target:.2f}x of it)",
            f"  new article's question answered  {figures['answered']}",
            f"  bot, file landed -> answered  {figures['landed_to_answer_seconds']:.2f} s "
            f"(WATCH_SECONDS {figures['watch_seconds']:g}; target <= {landed_target:g} s; "
            f"answer right: {figures['bot_answered']})",
        ]
    )
