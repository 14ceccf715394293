"""Follow-up questions: what leans on the previous turn, how it is rewritten, and that a
question naming its own subject is never changed (the whole news question set)."""

from __future__ import annotations

import pytest

from index.answering.followup import Turn, follow_up
from workshop.bench.dialogues import load_dialogues, standalone_changed
from workshop.bench.qa_sets import news_cases

LACROIX = Turn(
    question="Who bought LVMH's Christian Lacroix clothing label?",
    sentence="LVMH said the labels had been purchased by the Falic Group for an unspecified sum.",
    short_answer="the Falic Group",
    answer_type="person",
    title="Lacroix label bought by US firm",
)
BALI = Turn(
    question="Who is the spokesman for the Syrian Democratic Forces?",
    sentence="Mustafa Bali, the spokesman for the SDF, said the battle could take hours or days.",
    short_answer="Mustafa Bali",
    answer_type="person",
)
ELDERS = Turn(
    question="How many Daesh fighters had the elders in Raqqa persuaded to surrender?",
    sentence=(
        '"It will be today", Omar Alloush, a member of the Raqqa Civil Council, said, adding '
        "that the elders had already persuaded 100 Daesh fighters to surrender."
    ),
    short_answer="100",
    answer_type="number",
)
GATES = Turn(
    question="Who withdrew as President Reagan's nominee for CIA director?",
    sentence="Robert Gates withdrew his name from consideration by the Senate.",
    short_answer="Robert Gates",
    answer_type="person",
)
VIOTTI = Turn(
    question="Which theatre was conductor Marcello Viotti the director of?",
    sentence="Viotti was director of Venice's famous La Fenice Theatre.",
    short_answer="La Fenice Theatre",
    answer_type="organisation",
)
CIVILIANS = Turn(
    question="How many civilians left Raqqa?",
    sentence="Around 1,500 civilians left the city on Saturday.",
    short_answer="Around 1,500",
    answer_type="number",
)


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        (LACROIX, "Where is it based?", "Where is the Falic Group based"),
        (LACROIX, "Where is the firm based?", "Where is the Falic Group based"),
        (BALI, "What did he say next?", "What did Mustafa Bali say next"),
        (BALI, "what did he say about the final battle", "What did Mustafa Bali say about"),
        (VIOTTI, "When was his last public performance?", "When was Marcello Viotti's last"),
        (GATES, "Who announced it?", "Who announced that Robert Gates withdrew as President"),
        (ELDERS, "Who said that?", "Who said that the elders had already persuaded 100 Daesh"),
        (CIVILIANS, "When?", "When: Around 1,500 civilians left the city on Saturday"),
        (CIVILIANS, "What about Tabqa?", "How many civilians left Tabqa?"),
        (LACROIX, "And how much did they pay?", "How much did the Falic Group pay"),
        (CIVILIANS, "Where did they go?", "Where did the civilians go"),
        (BALI, "When did that happen?", "When: the battle could take hours or days"),
        (BALI, "Why?", "Why: the battle could take hours or days"),
    ],
)
def test_follow_ups_are_rewritten_with_the_previous_turn(
    previous: Turn, question: str, expected: str
) -> None:
    rewritten = follow_up(previous, question)
    assert rewritten is not None and rewritten.startswith(expected), rewritten


def test_the_previous_article_goes_along_and_the_question_mark_stays() -> None:
    rewritten = follow_up(LACROIX, "Where is it based?")
    assert rewritten == "Where is the Falic Group based (Lacroix label bought by US firm)?"


def test_a_leading_and_keeps_the_question_and_adds_the_story() -> None:
    rewritten = follow_up(LACROIX, "And who is representing Madrid?")
    assert rewritten == "Who is representing Madrid (Lacroix label bought by US firm)?"
    score = follow_up(BALI, "What was the score?")
    assert score == "What was the score (Syrian Democratic Forces, Mustafa Bali)?"


@pytest.mark.parametrize(
    "question",
    [
        "Who said the final battle could take hours or days?",
        "Who said he wanted the minimum wage to be a symbol of decency and fairness?",
        "Which company said it would cut 1,000 jobs?",
        "how much did it cost to make will smith's movie hitch",
        "which it company commissioned the survey",
        "Who said that, as a goalkeeper, he always blames himself?",
        "What is the largest mammal?",
        "What did the company say it would do after Ford bought it?",
        "China is banning new tobacco factories, but how many smokers does the country have?",
    ],
)
def test_questions_that_stand_alone_are_never_changed(question: str) -> None:
    for previous in (LACROIX, BALI, ELDERS, GATES, VIOTTI, CIVILIANS):
        assert follow_up(previous, question) is None


def test_nothing_to_lean_on_changes_nothing() -> None:
    assert follow_up(None, "Where is it based?") is None
    assert follow_up(LACROIX, "   ") is None
    assert follow_up(CIVILIANS, "Who told him to go?") is None  # no person in the last turn


def test_no_news_question_is_changed_after_any_other() -> None:
    """The key rule on the whole news question set, each after a random other question."""
    cases = news_cases()
    assert len(cases) > 2500
    for seed in (15, 16):
        assert standalone_changed(cases, seed) == []


def test_the_dialogue_set_is_read_and_every_second_turn_leans() -> None:
    dialogues = load_dialogues()
    assert len(dialogues) == 25
    for first, second in dialogues:
        said = f"{first.answers[0]} was named in the story, a council member said."
        previous = Turn(first.text, said, first.answers[0], answer_type="person")
        assert follow_up(previous, second.text) is not None, second.text
