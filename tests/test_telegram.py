"""The Telegram bot end to end: the real Application and Engine against a fake Bot API.

Nothing is mocked between the update and the reply: the fake server on 127.0.0.1 feeds updates
through long polling and records what the bot sends, so each test reads the bot's messages as
a Telegram user would.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings, SettingsError
from bot.engine import Engine
from bot.feedback import FEEDBACK_FILE, FeedbackLog
from bot.telegram.app import build_application, run_bot
from bot.telegram.render import MAX_MESSAGE_CHARS, render_lines
from bot.telegram.replies import MAX_QUOTES_SHOWN, quotes_lines
from bot.telegram.state import desk_of
from index.analysis.embedder import Embedder
from index.errors import NewsdeskError
from tests.conftest import BOT_TOKEN as TOKEN
from tests.conftest import SEED_ARTICLE, bot_settings_for
from workshop.fake_telegram.rules import html_problem
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import BOT_ID, BOT_USERNAME, FakeBotApi

ADMIN, ALICE, BOB = 1001, 1002, 1003
GROUP = -5005
RAQQA_QUESTION = "Who said the final battle could take hours or days?"
HOSTILE_TITLE = "Harbour & Marathon <b>Festival</b> </i> report"


def long_article() -> str:
    """One paragraph of about 6,000 characters, with characters HTML must escape."""
    clubs = ["Harbour & Hills", "Riverside <Striders>", "Old Town", "North Bay"]
    sentences = [
        f"Runner number {n} from the {clubs[n % 4]} club finished the harbour marathon in "
        f"{150 + n} minutes, the festival organisers said."
        for n in range(1, 61)
    ]
    return f"{HOSTILE_TITLE}\n\nPosted October 20, 2017\n\n{' '.join(sentences)}\n"


def make_seeds(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(SEED_ARTICLE, folder / SEED_ARTICLE.name)
    (folder / "marathon-2017-10-20.txt").write_text(long_article(), encoding="utf-8")
    return folder


def engine_over(seeds_dir: Path, index_dir: Path, embedder: Embedder) -> Engine:
    settings = Settings(
        _env_file=None, seeds_dir=seeds_dir, index_dir=index_dir, passage_max_words=2000
    )
    return Engine.load(settings.index_setup(), build_missing=True, embedder=embedder)


@pytest.fixture(scope="module")
def engine(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """One engine for the module: the Raqqa seed and a long marathon article."""
    folder = tmp_path_factory.mktemp("telegram")
    return engine_over(make_seeds(folder / "seeds"), folder / "index", embedder)


def bot_settings(api: FakeBotApi, engine: Engine, **overrides: Any) -> Settings:
    return bot_settings_for(api, engine, **{"admin_user_ids": frozenset({ADMIN}), **overrides})


@contextmanager
def running_bot(settings: Settings, engine: Engine) -> Iterator[None]:
    """The real Application, polling the fake server from its own thread and event loop."""
    with serving(build_application(settings, engine)):
        yield


def keyboard_data(api: FakeBotApi, chat_id: int) -> dict[str, str]:
    """Button label -> callback data, from the last message with a keyboard in the chat."""
    for call in reversed(api.calls_to("sendMessage", chat_id)):
        markup = api.markup_of(call)
        if markup:
            return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    raise AssertionError("no keyboard was sent")


def test_private_question_answers_in_bold_with_source(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        [reply] = api.wait_for_messages(ALICE, 1)
    assert api.calls_to("sendChatAction", ALICE) == []  # a quick answer needs no "typing…"
    assert "<b>Mustafa Bali</b>" in reply
    assert "this final battle could take hours or days" in reply
    assert (
        "— All Syrian IS fighters leave Raqa: monitor, 2017-10-15, events of 2017-10-14, "
        "paragraph 2" in reply
    )
    assert api.calls_to("sendMessage", ALICE)[0].params["parse_mode"] == "HTML"
    assert set(keyboard_data(api, ALICE)) == {"More", "Context", "👍", "👎"}
    assert api.calls_to("setMyCommands") == []  # the engine was given: no post_init load


def test_more_and_context_buttons_and_forged_data(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        buttons, answer_message = keyboard_data(api, ALICE), api.last_message_id(ALICE)

        api.push_callback(buttons["More"], message_id=answer_message, chat_id=ALICE, user_id=ALICE)
        more = api.wait_for_messages(ALICE, 2)[1]
        api.push_callback(
            buttons["Context"], message_id=answer_message, chat_id=ALICE, user_id=ALICE
        )
        context = api.wait_for_messages(ALICE, 3)[2]

        # Someone else's answer id from another chat, forged data, unknown id: all expired.
        api.push_callback(buttons["Context"], message_id=answer_message, chat_id=BOB, user_id=BOB)
        for forged in ("context:../../etc", "more:AAAAAAAAAAA"):
            api.push_callback(forged, message_id=answer_message, chat_id=ALICE, user_id=ALICE)
        api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= 5, settle=0.3)
    assert more.startswith("1. ") and "— " in more and "\n2. " in more
    assert "<b>Mustafa Bali</b>, the spokesman" in context
    assert context.endswith("paragraph 2")
    answers = [c.params.get("text") for c in api.calls_to("answerCallbackQuery")]
    assert answers[:2] == [None, None]
    assert answers[2:] == ["This answer has expired. Please ask again."] * 3
    assert api.sent_texts(BOB) == []
    assert len(api.sent_texts(ALICE)) == 3  # nothing from the articles for forged data


def test_thumbs_up_writes_one_line_to_the_feedback_log(api: FakeBotApi, engine: Engine) -> None:
    log = engine.setup.index_dir / FEEDBACK_FILE
    log.unlink(missing_ok=True)
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        buttons, answer_message = keyboard_data(api, ALICE), api.last_message_id(ALICE)
        assert buttons["👍"].startswith("good:") and len(buttons["👍"]) <= 64
        api.push_callback(buttons["👍"], message_id=answer_message, chat_id=ALICE, user_id=ALICE)
        api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= 1)
        # Someone else pressing the button of Alice's answer from another chat: nothing written.
        api.push_callback(buttons["👎"], message_id=answer_message, chat_id=BOB, user_id=BOB)
        api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= 2, settle=0.3)
    [line] = log.read_text(encoding="utf-8").splitlines()
    vote = json.loads(line)
    assert vote["vote"] == "good" and vote["question"] == RAQQA_QUESTION
    assert vote["chat"] == FeedbackLog(log, 2**20).chat_hash(ALICE) and str(ALICE) not in line
    assert vote["build_id"] == engine.store.manifest.build_id
    assert vote["source"]["paragraph"] == 2 and "Mustafa Bali" in vote["sentence"]
    thanks = [c.params.get("text") for c in api.calls_to("answerCallbackQuery")]
    assert thanks == ["Thanks: noted 👍", "This answer has expired. Please ask again."]
    assert len(api.sent_texts(ALICE)) == 1  # a vote sends no message, only the button's toast


def test_a_question_in_spanish_is_told_the_bot_reads_english(
    api: FakeBotApi, engine: Engine
) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("¿Qué dijo Mustafa Bali sobre la batalla final?", chat_id=ALICE)
        [reply] = api.wait_for_messages(ALICE, 1)
    assert reply == "I can read questions in English; these articles are in English."
    assert set(keyboard_data(api, ALICE)) == {"👍", "👎"}


def test_declined_question_offers_the_closest_passage(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("What is the capital of Australia?", chat_id=ALICE)
        [reply] = api.wait_for_messages(ALICE, 1)
    assert reply.startswith("I couldn't find that in the articles.")
    assert "The closest passage, which may not answer it:" in reply
    assert "<b>" not in reply and "\n— " in reply


def test_group_answers_mentions_replies_and_ask_only(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        in_group: dict[str, Any] = {"chat_id": GROUP, "user_id": BOB, "chat_type": "group"}
        api.push_message("who wants lunch? the final battle is over", **in_group)
        api.push_message(f"@{BOT_USERNAME} {RAQQA_QUESTION}", **in_group)
        api.wait_for_messages(GROUP, 1)
        first_answer = api.last_message_id(GROUP)
        api.push_message(
            f"/ask@{BOT_USERNAME} How many civilians left?",
            chat_id=GROUP, user_id=ALICE, chat_type="group",
        )  # fmt: skip
        api.wait_for_messages(GROUP, 2)
        api.push_message(
            "What is the capital of Australia?", chat_id=GROUP, user_id=ALICE,
            chat_type="group", reply_to_message_id=first_answer,
        )  # fmt: skip
        replies = api.wait_for_messages(GROUP, 3, settle=0.5)
    assert len(replies) == 3  # the chatter got nothing
    assert "<b>Mustafa Bali</b>" in replies[0]
    assert "1,500</b>" in replies[1]
    assert replies[2].startswith("I couldn't find that")
    first_call = api.calls_to("sendMessage", GROUP)[0]
    assert json.loads(first_call.params["reply_parameters"])["message_id"] > 0  # quotes


def test_start_help_and_sources(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("/start", chat_id=ALICE)
        start = api.wait_for_messages(ALICE, 1)[0]
        api.push_message("/help", chat_id=ALICE)
        help_text = api.wait_for_messages(ALICE, 2)[1]
        api.push_message("/sources", chat_id=ALICE)
        sources = api.wait_for_messages(ALICE, 3)[2]
        api.push_message("/help", chat_id=ADMIN)
        admin_help = api.wait_for_messages(ADMIN, 1)[0]
    assert "2 news articles (from 2017-10-15 to 2017-10-20)" in start
    assert start.count("• ") == 3 and "?" in start
    assert "/ask QUESTION" in help_text and "/reindex" not in help_text
    assert "/reindex" in admin_help and "/stats" in admin_help
    assert "• All Syrian IS fighters leave Raqa: monitor (2017-10-15)" in sources
    escaped = "Harbour &amp; Marathon &lt;b&gt;Festival&lt;/b&gt; &lt;/i&gt; report (2017-10-20)"
    assert escaped in sources
    for text in (start, help_text, sources):
        assert html_problem(text) is None


def test_strangers_are_refused_once(api: FakeBotApi, engine: Engine) -> None:
    settings = bot_settings(api, engine, allowed_user_ids=frozenset({ALICE}))
    with running_bot(settings, engine):
        api.push_message(RAQQA_QUESTION, chat_id=BOB)
        api.push_message("/sources", chat_id=BOB)
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        refused = api.wait_for_messages(BOB, 1, settle=0.5)
    assert refused == ["Sorry, this bot is private."]
    assert "Mustafa Bali" in api.sent_texts(ALICE)[0]


def test_admin_commands_are_for_admins_only(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("/stats", chat_id=BOB)
        api.push_message("/reindex", chat_id=BOB)
        refusals = api.wait_for_messages(BOB, 2, settle=0.3)
        api.push_message("/stats", chat_id=ADMIN)
        [stats] = api.wait_for_messages(ADMIN, 1)
    assert refusals == ["Only the bot's admins can use this command."] * 2
    assert "Index: 2 articles" in stats and "all-MiniLM-L6-v2" in stats
    assert "Questions answered:" in stats and "Uptime:" in stats


def test_rate_limit_says_slow_down_once(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine, rate_limit_per_minute=2), engine):
        for _ in range(5):
            api.push_message(RAQQA_QUESTION, chat_id=BOB)
        replies = api.wait_for_messages(BOB, 3, settle=0.8)
    assert len(replies) == 3
    assert sum("Mustafa Bali" in reply for reply in replies) == 2
    [slow] = [reply for reply in replies if reply.startswith("Slow down")]
    assert "at most 2 questions a minute" in slow


def test_long_context_is_split_under_the_limit(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("How long did runner number 7 take to finish?", chat_id=ALICE)
        [answer] = api.wait_for_messages(ALICE, 1)
        buttons = keyboard_data(api, ALICE)
        api.push_callback(
            buttons["Context"], message_id=api.last_message_id(ALICE), chat_id=ALICE,
            user_id=ALICE,
        )  # fmt: skip
        texts = api.wait_for_messages(ALICE, 3, settle=0.5)
    # The answer model tells the sixty near-identical sentences apart only by the runner's
    # number, and today picks a neighbour's (see the answers issue's note); this test is about
    # the context that follows.
    assert answer.startswith("Runner number ") and " minutes</b>" in answer
    parts = texts[1:]
    assert len(parts) >= 2
    assert all(len(part) <= MAX_MESSAGE_CHARS and html_problem(part) is None for part in parts)
    assert parts[0].rstrip().endswith("said.")  # cut between sentences
    assert "Riverside &lt;Striders&gt;" in parts[0] and "Harbour &amp; Hills" in parts[0]
    assert parts[-1].endswith("paragraph 1")


def test_html_hostile_questions_are_safe(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        hostile = "<b>Who</i> said & the final battle could take hours or days?"
        api.push_message(hostile, chat_id=ALICE)
        api.push_message("/ask", chat_id=BOB)
        api.push_message("/ask </b><script>&amp", chat_id=BOB)
        [answer] = api.wait_for_messages(ALICE, 1)
        replies = api.wait_for_messages(BOB, 2)
    assert "Mustafa Bali" in answer and "<b>" in answer
    assert replies[0].startswith("Ask me a question")
    for text in api.sent_texts():
        assert html_problem(text) is None
    assert not [c for c in api.calls if c.method == "sendMessage" and "<script>" in str(c.params)]


def test_token_never_reaches_the_logs(
    api: FakeBotApi, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
    assert any("/bot[REDACTED]/sendMessage" in r.getMessage() for r in caplog.records)
    secret = TOKEN.partition(":")[2]
    assert secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "123456:short", "abc:" + "x" * 35])
def test_bad_tokens_are_one_line_without_the_token(token: str | None) -> None:
    settings = Settings(
        _env_file=None, telegram_bot_token=SecretStr(token) if token is not None else None
    )
    with pytest.raises(SettingsError) as raised:
        run_bot(settings)
    message = str(raised.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN") and "\n" not in message
    assert not token or token not in message


def test_webhook_needs_https_and_a_secret() -> None:
    base: dict[str, Any] = {"_env_file": None, "telegram_bot_token": SecretStr(TOKEN)}
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is required"):
        run_bot(Settings(**base, webhook_url="https://bot.example.org/hook"))
    with pytest.raises(SettingsError, match="https://"):
        run_bot(
            Settings(
                **base, webhook_url="http://bot.example.org/hook", webhook_secret=SecretStr("s")
            )
        )
    # A short secret would be guessable, and too short to redact from logs safely.
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET must be 16 to 256") as short:
        run_bot(
            Settings(
                **base,
                webhook_url="https://bot.example.org/hook",
                webhook_secret=SecretStr("Ab1_x"),
            )
        )
    assert "Ab1_x" not in str(short.value)


def test_every_configured_secret_is_redacted_from_the_logs(
    api: FakeBotApi, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Ab1_x-webhook-secret"
    caplog.set_level(logging.DEBUG)
    settings = bot_settings(api, engine, webhook_secret=SecretStr(secret))
    with running_bot(settings, engine):
        logging.getLogger("telegram").debug("posting with secret %s", secret)
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
    assert secret not in caplog.text
    assert any("posting with secret [REDACTED]" in r.getMessage() for r in caplog.records)


def test_reindex_while_questions_are_answered(
    api: FakeBotApi, embedder: Embedder, tmp_path: Path
) -> None:
    own_engine = engine_over(make_seeds(tmp_path / "seeds"), tmp_path / "index", embedder)
    (tmp_path / "seeds" / "extra.txt").write_text(
        "Ferry strike ends\n\nPosted October 21, 2017\n\n"
        "The ferry workers ended their strike on Friday after the port agreed to new rotas.\n",
        encoding="utf-8",
    )
    with running_bot(bot_settings(api, own_engine), own_engine):
        api.push_message("/reindex", chat_id=ADMIN)
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.push_message(RAQQA_QUESTION, chat_id=BOB)
        api.wait_for_messages(ALICE, 1)
        api.wait_for_messages(BOB, 1)
        reindex = api.wait_for_messages(ADMIN, 2, timeout=30)
        api.push_message("When did the ferry workers end their strike?", chat_id=ALICE)
        after = api.wait_for_messages(ALICE, 2)[1]
    assert reindex[0].startswith("Reindexing")
    assert "1 added, 0 changed, 0 removed, 2 unchanged" in reindex[1]
    assert "Now 3 articles" in reindex[1]
    assert "Mustafa Bali" in api.sent_texts(ALICE)[0] and "Mustafa Bali" in api.sent_texts(BOB)[0]
    assert "<b>Friday</b>" in after or "Friday" in after


class BrokenEngine(Engine):
    """The real engine whose ``ask`` fails, to reach the error handler for real."""

    def ask(self, question: str, k: int = 10) -> Any:
        raise RuntimeError(f"index exploded for {TOKEN}")


def test_errors_are_logged_and_the_user_gets_a_short_apology(
    api: FakeBotApi, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenEngine(engine.setup, engine.embedder, engine.store)
    with running_bot(bot_settings(api, broken), broken):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        [reply] = api.wait_for_messages(ALICE, 1)
    assert reply == "Sorry, something went wrong on my side. Please try again in a moment."
    [record] = [r for r in caplog.records if r.getMessage() == "error while handling an update"]
    assert record.exc_text and "RuntimeError: index exploded for [REDACTED]" in record.exc_text
    assert TOKEN.partition(":")[2] not in caplog.text


def test_group_mention_needs_the_bot(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        in_group: dict[str, Any] = {"chat_id": GROUP, "user_id": BOB, "chat_type": "group"}
        api.push_message(f"@someone_else {RAQQA_QUESTION}", **in_group)
        api.push_message("/sources", **in_group)
        replies = api.wait_for_messages(GROUP, 1, settle=0.5)
    assert len(replies) == 1 and "articles indexed" in replies[0]
    assert BOT_ID > 0


def test_run_bot_fails_clearly_when_the_engine_cannot_load(
    api: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "empty").mkdir()
    settings = Settings(
        _env_file=None,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_base_url=api.base_url,
        seeds_dir=tmp_path / "empty",
        index_dir=tmp_path / "index",
    )
    with pytest.raises(NewsdeskError, match="no article found in"):
        run_bot(settings)
    assert [c.method for c in api.calls][:1] == ["getMe"]  # reached Telegram, then stopped
    assert api.calls_to("getUpdates") == [] and api.calls_to("sendMessage") == []
    assert TOKEN.partition(":")[2] not in caplog.text


def test_slow_answers_show_typing(api: FakeBotApi, engine: Engine) -> None:
    application = build_application(bot_settings(api, engine), engine)
    desk_of(application).typing_after = 0.0  # every answer counts as slow
    with serving(application):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
    [action] = api.calls_to("sendChatAction", ALICE)
    assert action.params["action"] == "typing"
    assert action.at <= api.calls_to("sendMessage", ALICE)[0].at


def test_a_failed_reindex_is_reported_and_answers_go_on(
    api: FakeBotApi, embedder: Embedder, tmp_path: Path
) -> None:
    own_engine = engine_over(make_seeds(tmp_path / "seeds"), tmp_path / "index", embedder)
    for article in (tmp_path / "seeds").iterdir():
        article.unlink()  # nothing left to index
    with running_bot(bot_settings(api, own_engine), own_engine):
        api.push_message("/reindex", chat_id=ADMIN)
        reindex = api.wait_for_messages(ADMIN, 2, timeout=30)
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        [answer] = api.wait_for_messages(ALICE, 1)
    assert reindex[1].startswith("Reindex failed, the index is unchanged: no article found in")
    assert "<b>Mustafa Bali</b>" in answer


def test_an_unreadable_update_is_skipped_and_answers_go_on(
    api: FakeBotApi, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), running_bot(bot_settings(api, engine), engine):
        bad = api.push_raw({"message": {"message_id": 9, "text": "no chat, no date"}})
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        [reply] = api.wait_for_messages(ALICE, 1)
        api.push_message("How many civilians left?", chat_id=ALICE)
        api.wait_for_messages(ALICE, 2)
    assert "<b>Mustafa Bali</b>" in reply
    # Polling moved past the bad update instead of asking for it again and again.
    offsets = [int(c.params.get("offset", "0") or 0) for c in api.calls_to("getUpdates")]
    assert max(offsets) > bad and len(offsets) < 10
    skipped = [r for r in caplog.records if f"skipped update {bad}" in r.getMessage()]
    assert len(skipped) == 1


def test_buttons_and_commands_count_against_the_rate_limit(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine, rate_limit_per_minute=5), engine):
        api.push_message(RAQQA_QUESTION, chat_id=BOB)
        api.wait_for_messages(BOB, 1)
        more = keyboard_data(api, BOB)["More"]
        answer_id = api.last_message_id(BOB)
        for _ in range(60):
            api.push_callback(more, message_id=answer_id, chat_id=BOB, user_id=BOB)
            api.push_message("/sources", chat_id=BOB)
        asked = api.push_message("How many civilians left?", chat_id=ALICE)
        [alice] = api.wait_for_messages(ALICE, 1)
        answered_after = time.monotonic() - (api.handed_at(asked) or 0.0)
        flood = api.wait_for_messages(BOB, 2, settle=1.0)
    # Five updates in the minute (the question and four more), then one "slow down" at most.
    replies_to_bob = len(flood) + len(api.calls_to("answerCallbackQuery"))
    assert replies_to_bob <= 5 + 1 + 4  # More can send several messages per press
    assert (
        sum(text.startswith("Slow down") for text in flood)
        + sum("Slow down" in c.params.get("text", "") for c in api.calls_to("answerCallbackQuery"))
        == 1
    )
    assert "1,500" in alice and answered_after < 3.0


def test_more_pressed_again_shows_the_next_passages(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(RAQQA_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        more, answer_message = keyboard_data(api, ALICE)["More"], api.last_message_id(ALICE)
        pages = []
        for count in range(2, 6):
            api.push_callback(more, message_id=answer_message, chat_id=ALICE, user_id=ALICE)
            pages.append(api.wait_for_messages(ALICE, count)[-1])
    assert pages[0].startswith("1. ") and pages[1].startswith("4. ")
    assert pages[2].startswith("7. ") and pages[3] == "No further passages."
    shown = [line for page in pages for line in page.splitlines() if line[:1].isdigit()]
    assert len(shown) == len(set(shown)) == 9  # never the same passage twice


FIGHTERS_QUESTION = "How many Daesh fighters had the elders persuaded to surrender?"


def test_a_follow_up_in_a_private_chat_is_read_with_the_last_answer(
    api: FakeBotApi, engine: Engine
) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message(FIGHTERS_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        api.push_message("Who said that?", chat_id=ALICE)
        follow_up = api.wait_for_messages(ALICE, 2)[1]
        api.push_message("Who said the final battle could take hours or days?", chat_id=ALICE)
        alone = api.wait_for_messages(ALICE, 3)[2]
    assert follow_up.startswith("(read as: Who said that the elders had already persuaded 100")
    assert "<b>Omar Alloush</b>" in follow_up
    assert "read as" not in alone  # a question that names its own subject is asked as it is
    assert html_problem(follow_up) is None


def test_a_reply_in_a_group_follows_up_on_that_answer(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        in_group: dict[str, Any] = {"chat_id": GROUP, "user_id": BOB, "chat_type": "group"}
        api.push_message(f"@{BOT_USERNAME} {RAQQA_QUESTION}", **in_group)
        api.wait_for_messages(GROUP, 1)
        bali_answer = api.last_message_id(GROUP)
        api.push_message(f"@{BOT_USERNAME} How many civilians left?", **in_group)
        api.wait_for_messages(GROUP, 2)
        # Alice replies to the first answer, not the last one: the follow-up is about Bali.
        api.push_message(
            "What else did he say?", chat_id=GROUP, user_id=ALICE, chat_type="group",
            reply_to_message_id=bali_answer,
        )  # fmt: skip
        replies = api.wait_for_messages(GROUP, 3)
    assert replies[2].startswith("(read as: What else did Mustafa Bali say")


def test_new_and_expiry_forget_the_last_answer(api: FakeBotApi, engine: Engine) -> None:
    now = [1000.0]
    application = build_application(bot_settings(api, engine), engine)
    desk_of(application).conversations.clock = lambda: now[0]
    with serving(application):
        api.push_message(FIGHTERS_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        api.push_message("/new", chat_id=ALICE)
        forgotten = api.wait_for_messages(ALICE, 2)[1]
        api.push_message("Who said that?", chat_id=ALICE)
        after_new = api.wait_for_messages(ALICE, 3)[2]
        api.push_message(FIGHTERS_QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 4)
        now[0] += 16 * 60  # past FOLLOW_UP_MINUTES (15)
        api.push_message("Who said that?", chat_id=ALICE)
        after_expiry = api.wait_for_messages(ALICE, 5)[4]
        api.push_message("/help", chat_id=ALICE)
        help_text = api.wait_for_messages(ALICE, 6)[5]
    assert forgotten == "Starting afresh: your next question is read on its own."
    assert "read as" not in after_new and "read as" not in after_expiry
    assert "/new" in help_text and "for 15 minutes" in help_text


def test_quotes_command_lists_statements_by_any_alias(api: FakeBotApi, engine: Engine) -> None:
    with running_bot(bot_settings(api, engine), engine):
        api.push_message("/quotes Bali", chat_id=ALICE)
        bali = api.wait_for_messages(ALICE, 1)[0]
        api.push_message("/quotes Nobody Atall", chat_id=ALICE)
        nobody = api.wait_for_messages(ALICE, 2)[1]
        api.push_message("/quotes", chat_id=ALICE)
        usage = api.wait_for_messages(ALICE, 3)[2]
        api.push_message("/help", chat_id=ALICE)
        help_text = api.wait_for_messages(ALICE, 4)[3]
    assert bali.startswith("2 statement(s) by Bali, newest first:")
    assert "“this final battle could take hours or days” (Mustafa Bali, the spokesman" in bali
    assert "“Around 1,500 civilians had been able" in bali
    assert "— All Syrian IS fighters leave Raqa: monitor, 2017-10-15, paragraph 5" in bali
    assert nobody == "No statements by Nobody Atall in these articles."
    assert usage.startswith("Say whose statements you want: /quotes NAME")
    assert "/quotes NAME" in help_text
    for text in (bali, nobody, usage):
        assert html_problem(text) is None and len(text) <= MAX_MESSAGE_CHARS


def test_a_long_quotes_list_is_bounded_and_split(engine: Engine) -> None:
    [quote] = engine.quotes("Omar Alloush")
    many = [replace(quote, statement=quote.statement * 8) for _ in range(60)]
    messages = render_lines(quotes_lines("Alloush", many))
    assert len(messages) > 1
    assert all(len(text) <= MAX_MESSAGE_CHARS and html_problem(text) is None for text in messages)
    joined = "".join(messages)
    assert f"{MAX_QUOTES_SHOWN}. “" in joined and f"{MAX_QUOTES_SHOWN + 1}. “" not in joined
    assert f"… and {60 - MAX_QUOTES_SHOWN} more." in joined
