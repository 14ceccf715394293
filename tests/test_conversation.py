"""The follow-up memory: per chat, expiring, bounded, forgotten on request (clock injected)."""

from __future__ import annotations

from bot.conversation import Conversations, read_question, turn_of
from index.answering.followup import Turn
from index.answering.results import Answer, Source

TURN = Turn("Who bought Lacroix?", "The Falic Group bought it.", "the Falic Group", "person")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_turn_expires_after_the_configured_minutes() -> None:
    clock = Clock()
    memory = Conversations(15, clock=clock)
    memory.remember(1, TURN)
    clock.now += 14 * 60
    assert memory.previous(1) == TURN
    assert memory.previous(2) is None  # another chat remembers nothing
    clock.now += 2 * 60
    assert memory.previous(1) is None
    assert len(memory) == 0  # the stale turn is gone, not just hidden


def test_forget_and_the_bound_on_chats() -> None:
    memory = Conversations(15, max_chats=2, clock=Clock())
    for chat in (1, 2, 3):
        memory.remember(chat, TURN)
    assert memory.previous(1) is None and len(memory) == 2  # the oldest chat went first
    assert memory.forget(3) is True and memory.previous(3) is None
    assert memory.forget(3) is False


def test_zero_minutes_turns_follow_ups_off() -> None:
    memory = Conversations(0, clock=Clock())
    memory.remember(1, TURN)
    assert memory.previous(1) is None


def test_reading_a_question_after_a_turn() -> None:
    reading = read_question(TURN, "Where is it based?")
    assert reading.rewritten and reading.asked.startswith("Where is the Falic Group based")
    alone = read_question(TURN, "Where is Nike based?")
    assert not alone.rewritten and alone.asked == "Where is Nike based?"


def test_a_declined_answer_keeps_its_sentence_but_no_short_answer() -> None:
    source = Source("Lacroix sold", "2005-01-27", 1, "a.txt", key="a.txt")
    answer = Answer("Who?", False, "Closest.", "Falic", (), "", source, 0.1, "person")
    turn = turn_of(answer)
    assert (turn.sentence, turn.short_answer, turn.title, turn.key) == (
        "Closest.",
        None,
        "Lacroix sold",
        "a.txt",
    )
