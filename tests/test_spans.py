from __future__ import annotations

import pytest

from bot.spans import QuestionType, question_type, short_answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many civilians left?", QuestionType.NUMBER),
        ("how much did it cost", QuestionType.NUMBER),
        ("What percentage of voters agreed?", QuestionType.NUMBER),
        ("Who said the final battle could take hours or days?", QuestionType.PERSON),
        ("Which militia dominates the SDF?", QuestionType.PERSON),
        ("When did the fighters agree to leave?", QuestionType.DATE),
        ("In what year was it founded?", QuestionType.DATE),
        ("Where is Deir Ezzor?", QuestionType.PLACE),
        ("What did SANA quote the source as saying?", QuestionType.OTHER),
    ],
)
def test_question_type(question: str, kind: QuestionType) -> None:
    assert question_type(question) is kind


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "How many civilians left?",
            "Around 1,500 civilians had been able to safely make it to SDF lines within the last "
            "week, he added.",
            "Around 1,500",
        ),
        (
            "How many fighters does ISIS have in the valley?",
            "US officials believe ISIS has housed up to 10,000 fighters in the valley.",
            "up to 10,000",
        ),
        (
            "How long did it take the convoy?",
            "It took more than 15 days for the evacuation convoy to reach the city.",
            "more than 15 days",
        ),
        (
            "Who said the final battle could take hours or days?",
            "Mustafa Bali, the spokesman for the Kurdish-led Syrian Democratic Forces, said on "
            "Saturday that this final battle could take hours or days.",
            "Mustafa Bali",
        ),
        (
            "Who said people must be tracked?",
            "Coalition spokesman Col. Ryan Dillon said it's important that people are tracked.",
            "Ryan Dillon",
        ),
        (
            "When did the fighters agree to be evacuated?",
            "In August, Islamic State fighters agreed to be evacuated from a border area.",
            "August",
        ),
        (
            "When was the article posted?",
            "The article was posted on October 15, 2017 by the desk.",
            "October 15, 2017",
        ),
        (
            "Where did the convoy go?",
            "The convoy went to Deir el-Zour after two weeks.",
            "Deir el-Zour",
        ),
    ],
)
def test_short_answer(question: str, sentence: str, expected: str) -> None:
    span = short_answer(question, sentence)
    assert span is not None
    assert span.text == expected
    assert sentence[span.start : span.end] == span.text


def test_no_short_answer_when_the_sentence_has_none() -> None:
    assert short_answer("How many civilians left?", "The civilians left the city.") is None
    assert short_answer("What did SANA say?", "SANA said 5 things.") is None
