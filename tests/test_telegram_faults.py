"""The bot against a Bot API that answers 429, 502 or not at all: every answer arrives once.

The real ``Application`` and ``Engine`` run against the fake server on 127.0.0.1, which is told
to fail the next few ``sendMessage`` calls. Faulted requests are never delivered, so a reply
seen exactly once in ``sent_texts`` means it was retried after the fault, and only once.
"""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import build_application
from bot.telegram.replies import SORRY
from bot.telegram.sending import NETWORK_RETRIES, backoff_seconds
from tests.conftest import bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi, Fault

QUESTION = "Who said the final battle could take hours or days?"
ANSWER_WORDS = "<b>Mustafa Bali</b>"
CHATS = (2001, 2002, 2003)

# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; not ours to change.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture(scope="module")
def engine(seed_engine: Engine) -> Engine:
    """The session's engine over the seed article."""
    return seed_engine


def bot_settings(api: FakeBotApi, engine: Engine) -> Settings:
    return bot_settings_for(api, engine)


def answered_once(api: FakeBotApi, chats: tuple[int, ...]) -> None:
    """Each chat got exactly one message, and it is the answer."""
    for chat in chats:
        texts = api.sent_texts(chat)
        assert len(texts) == 1, (chat, texts)
        assert ANSWER_WORDS in texts[0]


def test_429_waits_retry_after_then_answers_each_chat_once(api: FakeBotApi, engine: Engine) -> None:
    api.fail_next("sendMessage", 3, Fault.RATE_LIMIT, retry_after=1)
    with serving(build_application(bot_settings(api, engine), engine)):
        for chat in CHATS:
            api.push_message(QUESTION, chat_id=chat)
        api.wait_for(lambda: len(api.sent_texts()) >= len(CHATS), timeout=20, settle=0.5)
    faults = api.faulted
    assert [fault for fault, _ in faults] == [Fault.RATE_LIMIT] * 3
    answered_once(api, CHATS)
    # AIORateLimiter holds every request for retry_after once told to: nothing got through early.
    first_fault = faults[0][1].at
    assert min(call.at for call in api.calls_to("sendMessage")) >= first_fault + 1.0


def test_502_is_retried_with_backoff(api: FakeBotApi, engine: Engine) -> None:
    api.fail_next("sendMessage", 2, Fault.BAD_GATEWAY)
    with serving(build_application(bot_settings(api, engine), engine)):
        api.push_message(QUESTION, chat_id=CHATS[0])
        api.wait_for_messages(CHATS[0], 1, timeout=20, settle=0.5)
    faults = api.faulted
    assert [fault for fault, _ in faults] == [Fault.BAD_GATEWAY] * 2
    answered_once(api, CHATS[:1])
    [delivered] = api.calls_to("sendMessage")
    assert faults[1][1].at - faults[0][1].at >= backoff_seconds(0) - 0.05
    assert delivered.at - faults[1][1].at >= backoff_seconds(1) - 0.05
    assert delivered.params == faults[0][1].params  # the same message, sent again


def test_a_send_that_times_out_after_going_out_is_not_sent_twice(
    api: FakeBotApi, engine: Engine
) -> None:
    """Delivered, but answered after the client gave up: resending would show it twice."""
    api.fail_next("sendMessage", 1, Fault.SLOW, hang_seconds=3)
    application = build_application(bot_settings(api, engine), engine, send_timeout=1.0)
    with serving(application):
        for chat in CHATS:
            api.push_message(QUESTION, chat_id=chat)
        api.wait_for(lambda: all(api.sent_texts(chat) for chat in CHATS), timeout=20, settle=2.5)
    [(fault, _)] = api.faulted
    assert fault is Fault.SLOW
    answered_once(api, CHATS)


def test_a_hanging_request_times_out_without_a_resend(api: FakeBotApi, engine: Engine) -> None:
    """No answer at all: it may have arrived, so it is neither resent nor apologised for."""
    api.fail_next("sendMessage", 1, Fault.HANG, hang_seconds=6)
    application = build_application(bot_settings(api, engine), engine, send_timeout=1.0)
    with serving(application):
        api.push_message(QUESTION, chat_id=CHATS[0])
        api.wait_for(lambda: bool(api.faulted), timeout=20)
        api.push_message(QUESTION, chat_id=CHATS[1])
        api.wait_for_messages(CHATS[1], 1, timeout=20, settle=2.0)
    [(fault, _)] = api.faulted
    assert fault is Fault.HANG
    assert api.sent_texts(CHATS[0]) == []
    answered_once(api, CHATS[1:2])


def test_persistent_5xx_gives_up_then_the_bot_answers_again(
    api: FakeBotApi, engine: Engine
) -> None:
    """Bounded: after the retries the answer is dropped, the user is told, the bot goes on."""
    tries = NETWORK_RETRIES + 1
    api.fail_next("sendMessage", tries, Fault.BAD_GATEWAY)
    with serving(build_application(bot_settings(api, engine), engine)):
        api.push_message(QUESTION, chat_id=CHATS[0])
        api.wait_for_messages(CHATS[0], 1, timeout=20)
        api.push_message(QUESTION, chat_id=CHATS[0])
        texts = api.wait_for_messages(CHATS[0], 2, timeout=20, settle=0.5)
    assert len(api.faulted) == tries
    assert texts[0] == SORRY and ANSWER_WORDS in texts[1] and len(texts) == 2
