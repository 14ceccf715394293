"""Answers from the stored statements: "what did X say [about Y]", "who said Y", quotes by X.

The build stored who said what (``analysis/statements``); here a question about a speaker is
answered from those rows instead of the answer model: the statement by X closest to Y (by the
index's own sentence vectors and words), the rest of X's statements newest first. "Who said"
answers whose sentence names its speaker only as "he" or "the spokesman" get the name.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from index.answering.question import AnswerType, Question
from index.answering.results import MORE, Answer, Mark, MoreHit, Source
from index.corpus.articles import printable
from index.search.searcher import Searcher, SearchResult
from index.storage.lexical import terms_of
from index.storage.metadata import MAX_NAME_CHARS, Metadata, SentenceRecord, StatementRecord

_ABOUT = re.compile(r"\b(?:about|on|regarding|concerning|of)\b\s+(?P<topic>.+)$", re.IGNORECASE)
_WHO_SAID = re.compile(r"^\s*(?:who|which \w+(?: \w+)?) ", re.IGNORECASE)
# Ways of saying that the question's own attribution patterns leave out.
_SAYING_TOO = re.compile(r"\b(?:joked|quipped|forecast|reckoned|hinted|conceded)\b", re.IGNORECASE)
_AFFILIATION = re.compile(r"\s+(?:of|from|at)\s+(?=[A-Z])")
_NEAREST_MORE = 2
_WORD_WEIGHT = 0.05  # a shared word counts like 0.05 of cosine: vectors decide, words break ties


@dataclass(frozen=True)
class Quote:
    """One statement as a front end lists it."""

    speaker: str
    role: str
    verb: str
    statement: str
    sentence: str
    source: Source
    resolved: bool  # the article names the speaker by a pronoun or role in this sentence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sentence_source(sentence: SentenceRecord) -> Source:
    article = sentence.article
    return Source(
        article.title, article.date, sentence.paragraph + 1, article.path, article.url, article.key
    )


def quotes_by(metadata: Metadata, name: str) -> list[Quote]:
    """Every statement by ``name`` (aliases included), newest article first.

    ``name`` may be any text a person typed: one that cannot be a speaker's (undecodable bytes
    only, longer than ``MAX_NAME_CHARS``) finds none; ``%`` and ``_`` are no wildcards.
    """
    return [_quote(record) for record in metadata.statements_by(name)]


def speaker_name(name: str) -> str:
    """``name`` fit to print back to whoever typed it: without undecodable bytes (a terminal
    cannot encode them) or control characters, one space between words, and shortened to
    ``MAX_NAME_CHARS`` with "…" (a 100,000-character "name" would fill the screen)."""
    text = " ".join(printable(name.encode("utf-8", "ignore").decode("utf-8")).split())
    return text if len(text) <= MAX_NAME_CHARS else text[: MAX_NAME_CHARS - 1] + "…"


def statement_answer(question: Question, searcher: Searcher, chosen: Answer) -> Answer | None:
    """ "What did X say [about Y]": the answer model's answer, with X's statements (the closest
    to Y first, then the rest newest first) as its further passages; None when X has none. A
    declined answer stays declined (a statement is no answer to a question the articles don't
    answer), with X's statements listed as the closest passages.

    The model's sentence stays the answer (when it is one of X's statements, the words said
    are its short answer): on the news questions, replacing it by the statement
    closest to Y turned 17 right answers of 143 "what did X say" into wrong ones (another
    speaker of the same surname, or a statement on another topic).
    """
    if question.answer_type is not AnswerType.STATEMENT or not question.speaker:
        return None
    if chosen.source is None:
        return None
    metadata = searcher.store.metadata
    records: list[StatementRecord] = []
    for name in _speaker_names(question.speaker):
        records = metadata.statements_by(name)
        if records:
            break
    if not records:
        return None
    ranked, _ = _closest(question, records, searcher)
    nearest = ranked[:_NEAREST_MORE]
    others = nearest + [r for r in records if r not in nearest]
    more = tuple(
        MoreHit(r.sentence.text, _context(metadata, r), sentence_source(r.sentence), 0.0)
        for r in others
        if r.sentence.text != chosen.sentence
    )
    own = next(
        (
            r
            for r in records
            if r.sentence.text == chosen.sentence and r.sentence.article.key == chosen.source.key
        ),
        None,
    )
    # A bare "what did X say?" asks for any of X's statements: when the sentence chosen is
    # one, it answers, however unsure the reader was of which one (it reads for a topic the
    # question does not have). With a topic, a declined answer stays declined.
    bare = set(question.terms) <= question.speaker_terms
    if own is None or not (chosen.found or bare):
        return replace(chosen, more=more[:MORE])
    # The answer is one of X's statements: what X said is the short answer, not X's name.
    marks = (Mark(own.start, own.end),)
    return replace(chosen, found=True, short_answer=own.text, marks=marks, more=more[:MORE])


def named_speaker(
    question: Question, answer: Answer, result: SearchResult, metadata: Metadata
) -> Answer:
    """A "who said" answer whose sentence is a stored statement: its speaker's name becomes the
    short answer (the name the article gave earlier when the sentence says only "he")."""
    if (
        not answer.found
        or answer.source is None
        or not (question.attribution or _SAYING_TOO.search(question.text))
        or question.answer_type is not AnswerType.PERSON
        or not _WHO_SAID.match(question.text)
    ):
        return answer
    ids = [
        scored.record.id
        for hit in result.hits
        for scored in hit.sentences
        if scored.record.text == answer.sentence and scored.record.article.key == answer.source.key
    ]
    stated = metadata.statements_in(ids[:1])
    if not stated:
        return answer
    speaker = next(iter(stated.values())).speaker
    return replace(answer, short_answer=speaker, marks=_name_marks(answer.sentence, speaker))


def _name_marks(sentence: str, name: str) -> tuple[Mark, ...]:
    """The speaker's name in the sentence (the full name, else the surname); none for "he"."""
    for wanted in (name, name.split()[-1]):
        found = re.search(rf"\b{re.escape(wanted)}\b", sentence)
        if found is not None:
            return (Mark(found.start(), found.end()),)
    return ()


def _closest(
    question: Question, records: list[StatementRecord], searcher: Searcher
) -> tuple[list[StatementRecord], float]:
    """The statements nearest the question's topic first (none named: newest first), and the
    first one's cosine to the topic (1.0 when there is no topic)."""
    topic = _topic(question)
    if topic is None or len(records) == 1 or searcher.embedder is None:
        return records, 1.0
    query = searcher.embedder.embed_query(topic)
    vectors = searcher.store.vectors[[record.sentence.id for record in records]]
    similarities = (vectors @ query.reshape(-1)).astype(float)
    wanted = set(terms_of(topic))
    scores = [
        similarity + _WORD_WEIGHT * len(wanted & set(terms_of(record.text)))
        for similarity, record in zip(similarities, records, strict=True)
    ]
    order = np.argsort(-np.asarray(scores), kind="stable")
    best = float(similarities[int(order[0])])
    return [records[int(i)] for i in order], round(max(0.0, min(1.0, best)), 4)


def _speaker_names(phrase: str) -> list[str]:
    """The names a question's speaker phrase may mean, fullest first: "Bank of Japan chief
    Toshihiko Fukui" -> ... "Toshihiko Fukui"; "Marc Ostwald of Monument Securities" -> "Marc
    Ostwald". A lone surname is tried only when the phrase is one."""
    names = [phrase]
    head = _AFFILIATION.split(phrase, maxsplit=1)[0].strip()
    words = head.split()
    names += [" ".join(words[i:]) for i in range(len(words) - 1) if len(words) - i >= 2]
    return list(dict.fromkeys(name for name in names if name))


def _topic(question: Question) -> str | None:
    """The Y of "what did X say about Y" (or whatever follows the verb), if any."""
    text = question.text.strip().rstrip("?!. ")
    if question.speaker:
        at = text.find(question.speaker)
        text = text[at + len(question.speaker) :] if at >= 0 else text
    about = _ABOUT.search(text)
    topic = about.group("topic") if about else re.sub(r"^\s*\w+\s*", "", text)
    return topic if set(terms_of(topic)) - question.speaker_terms else None


def _context(metadata: Metadata, record: StatementRecord) -> str:
    return metadata.passage(record.sentence.passage).text


def _quote(record: StatementRecord) -> Quote:
    return Quote(
        record.speaker,
        record.role,
        record.verb,
        record.text,
        record.sentence.text,
        sentence_source(record.sentence),
        record.resolved,
    )
