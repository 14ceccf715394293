"""Reading a question: the answer type it wants, its words, its names, who it asks about."""

from __future__ import annotations

import pytest

from index.answering.question import AnswerType, parse_question


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Who said the final battle could take hours or days?", AnswerType.PERSON),
        ("whom did the minister blame", AnswerType.PERSON),
        ("Which French minister announced the aid package?", AnswerType.PERSON),
        ("Which Texas Instruments boss backed internet phone calls?", AnswerType.PERSON),
        ("Which company bought the stake in Cynergy Corp?", AnswerType.ORGANISATION),
        ("Which UK logistics company did Exel buy for £328m?", AnswerType.ORGANISATION),
        ("which team won the cup", AnswerType.ORGANISATION),
        ("What studio made the film?", AnswerType.ORGANISATION),
        ("Which school did she attend?", AnswerType.ORGANISATION),
        ("Which party won the election?", AnswerType.ORGANISATION),
        ("What is the name of the newspaper he edits?", AnswerType.ORGANISATION),
        ("Where is storage firm Exel based?", AnswerType.PLACE),
        ("In which city will the summit be held?", AnswerType.PLACE),
        ("When did James Callaghan become prime minister?", AnswerType.DATE),
        ("In which year did Ryan Giggs win his first Wales cap?", AnswerType.DATE),
        ("How many civilians left?", AnswerType.NUMBER),
        ("how many subscribers did AOL lose", AnswerType.NUMBER),
        ("How much did Time Warner pay to settle?", AnswerType.MONEY),
        ("What was the price of the deal?", AnswerType.MONEY),
        ("What percentage of voters backed him?", AnswerType.PERCENT),
        ("How long did the convoy take?", AnswerType.DURATION),
        ("How many years did he serve?", AnswerType.DURATION),
        ("What film won the award?", AnswerType.WORK),
        ("What did Coalition spokesman Ryan Dillon say?", AnswerType.STATEMENT),
        ("What did SANA quote the Foreign Ministry source as saying?", AnswerType.STATEMENT),
        ("Who is Omar Alloush?", AnswerType.DESCRIPTION),
        ("Why did the shares fall?", AnswerType.OTHER),
        ("Time Warner's profits rose by how much?", AnswerType.MONEY),
        (
            "What would rebuilding the Lyric Theatre cost, according to its chairman?",
            AnswerType.MONEY,
        ),
        ("What is Pernod Ricard worth in market value?", AnswerType.MONEY),
        ("What is the stage musical of Billy Elliot costing to put on?", AnswerType.MONEY),
        ("The appeal is expected to top what amount?", AnswerType.MONEY),
        ("What lead did Ireland have over Scotland at half-time?", AnswerType.NUMBER),
        ("Which film and television distributor is OSR buying?", AnswerType.ORGANISATION),
        ("who is mia hamm married to", AnswerType.PERSON),
        ("Who was team GB's best finisher at the championships?", AnswerType.PERSON),
        ("Who is David Cummings, the man who criticised the bid?", AnswerType.DESCRIPTION),
    ],
)
def test_answer_type(text: str, kind: AnswerType) -> None:
    assert parse_question(text).answer_type is kind


def test_statement_question_names_its_speaker() -> None:
    question = parse_question("What did Coalition spokesman Ryan Dillon say about Raqqa?")
    assert question.speaker == "Coalition spokesman Ryan Dillon"
    assert question.attribution
    assert "Ryan Dillon" in question.entities


def test_description_question_names_its_subject() -> None:
    assert parse_question("Who is Omar Alloush?").subject == "Omar Alloush"


def test_who_said_asks_for_an_attribution() -> None:
    assert parse_question("Who said the battle could take days?").attribution
    assert not parse_question("Who won the match?").attribution


def test_content_terms_leave_out_the_framing_words() -> None:
    question = parse_question("How many civilians left Raqqa?")
    assert "civilian" in question.terms and "raqqa" in question.terms
    assert not {"how", "mani", "many"} & set(question.terms)


def test_lower_case_names_are_found_through_the_index_names() -> None:
    known = {"time warner": "ORG", "aol": "ORG"}

    def lookup(names: list[str]) -> dict[str, str]:
        return {n.lower(): known[n.lower()] for n in names if n.lower() in known}

    question = parse_question("how many subscribers did time warner's aol lose", lookup)
    assert set(question.entities) == {"time warner", "aol"}


def test_the_original_text_is_kept() -> None:
    assert parse_question("  who   won?  ").text == "  who   won?  "
