"""Follow-up questions: whether a question leans on the previous turn, and its stand-alone form.

"Where is it based?" after "Who bought Lacroix?" (answered "the Falic Group") is read as "Where
is the Falic Group based?"; "Who said that?" as who said the previous answer's statement; "And
who is representing Madrid?" keeps the previous question's names beside it. A question that
names its own subject is never changed: every rule below first asks whether the question could
stand on its own, and the news question set (about 2,700 stand-alone questions) is the test of
that. Patterns only, no I/O and no tagger, so it costs nothing on the question path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_AUX = _words(
    "is was are were do does did has have had will would can could should may might must shall 's"
)
_WH = _words("who whom whose what when where which why how")
_PERSON = _words("he she him her his hers himself herself")
_THING = _words("it its itself")
_PLURAL = _words("they them their theirs themselves")
_POSSESSIVE = _words("his its their hers theirs")
_PRONOUNS = _PERSON | _THING | _PLURAL
_DEMONSTRATIVE = _words("that this")
_OBJECTS = _words("him them")
_HAPPEN = _words("happen happened happens occur occurred")
# Words a question may hold and still say nothing of its own: "when?", "how much, then?".
_BARE = (
    _WH
    | _AUX
    | _PRONOUNS
    | _DEMONSTRATIVE
    | _words("many much long often old far big then exactly so else now again happen happened")
)
# Function words: what does not count as a content word that a pronoun could refer back to.
_FUNCTION = (
    _AUX
    | _WH
    | _PRONOUNS
    | _words(
        "the a an of in on at to for from by with about as and or but not no than then that this"
        " these those there here also still ever even just exactly so very more most much many"
        " own first last next now again be been being get got i you we me us our your"
    )
)
# Verbs whose "it"/"that" is an event or a statement, not a thing: "who announced it?".
_REPORTING = _words(
    "said say says announced announce confirmed confirm denied deny reported report revealed"
    " reveal claimed claim disclosed disclose explained explain decided decide ordered order"
    " told tell stated state admitted admit suggested suggest warned warn"
    " predicted predict"
)
# Nouns that name who or what a definite "the firm", "that country" stands for.
_PERSON_NOUNS = _words(
    "man woman person player minister spokesman spokeswoman official executive boss chief"
    " singer actor actress director manager coach star leader president chairman author"
    " writer mp"
)
_PLACES = _words("country city town state region")
_THING_NOUNS = _words(
    "firm company group business club team side band label airline bank country city town"
    " state region government party union film movie book album song game show award"
    " product deal plan law bill report"
)
# Nouns that need a subject of their own: "what was the score?" asks about the last story.
_RELATIONAL = _words(
    "score result time majority price cost reason outcome response reaction verdict total"
    " figure margin fee salary age date"
)
_ORG_WORDS = re.compile(
    r"\b(?:group|inc|corp|corporation|company|co|plc|ltd|bank|airlines?|union|party|council"
    r"|association|agency|ministry|government|club|fc|united|city|league|network|studios?"
    r"|alliance|democrats?|front|forces|movement|committee|commission|institute|foundation"
    r"|trust|office|department|theatre|house|awards?|times|post|news)\b",
    re.IGNORECASE,
)
_WHICH_NOUN = re.compile(r"^(?i:which|what)\s+(?:\S+\s+)?[a-z][a-z-]*(?:or|ist|ian|man|woman)\b")
_TITLED = re.compile(
    r"\b(?i:[a-z]{3,}(?:or|ist|ian|man|woman)|mr|mrs|ms|dr|sir|lord|president|minister|mp)"
    r"\.?\s+([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
)
_PERSON_NAME = re.compile(r"^[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+){1,3}$")
# "How many Daesh fighters had ...": the counted people or things, up to the first plural.
_COUNTED = re.compile(r"^how many\s+((?:[\w'’-]+\s+){0,2}?[\w'’-]+s)\b", re.IGNORECASE)
_DATE_WORDS = re.compile(
    r"\b(?:in|on|january|february|march|april|may|june|july|august|september|october"
    r"|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d+)\b",
    re.IGNORECASE,
)
_NON_ENTITY_TYPES = _words("number percent money date duration statement description")
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’&.-]*")
_NAME = re.compile(r"[A-Z][\w'’&.-]*(?:\s+(?:of|the|de|van|von|al|bin|and|&)?\s*[A-Z][\w'’&.-]*)*")
_LEADING = re.compile(r"^(?:(?:and|but|so|also|then)\b[\s,]*|(?:what|how) about\b\s*)", re.I)
_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how) about\b\s*", re.I)
_STATEMENT_CUT = re.compile(
    r"[\"“”]|\b(?:said|says|say|added|adding|told|according to|claimed|stated)\b(?:\s+that\b)?"
)


@dataclass(frozen=True)
class Turn:
    """What a follow-up may lean on: the previous question and what was answered."""

    question: str
    sentence: str = ""  # the answer sentence ("" when the articles did not say)
    short_answer: str | None = None
    answer_type: str = "other"  # ``AnswerType`` value of the previous question
    title: str = ""  # the answer's article
    key: str = ""
    speaker: str | None = None  # who said the answer's statement, when known


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower().rstrip(".")


def follow_up(previous: Turn | None, question: str) -> str | None:
    """The stand-alone form of ``question`` read after ``previous``, or None to ask it as it is.

    None when there is no previous turn, when the question stands on its own (names its own
    subject: the rule that must never fail), or when what it leans on cannot be found.
    """
    if previous is None or not question.strip():
        return None
    text = " ".join(question.split())
    body = text.rstrip(" ?!.")
    end = text[len(body) :].strip() or "?"
    about = _ABOUT.match(body)
    if about is not None:
        return _about(previous, body[about.end() :].strip(" ,"), end)
    leading = _LEADING.match(body)
    leaned = leading is not None
    if leading is not None:
        body = body[leading.end() :].strip(" ,")
        if not body:
            return None
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(body)]
    if not tokens:
        return None
    bare = tokens[0].low in _WH and all(t.low in _BARE for t in tokens) and len(tokens) <= 5
    happened = any(t.low in _HAPPEN for t in tokens)  # "when did it happen?": an event
    if bare and (happened or not any(t.low in _PRONOUNS for t in tokens)):
        return _bare(previous, tokens, end)
    rewritten = _resolve_pronoun(previous, body, tokens)
    if rewritten is None:
        rewritten = _resolve_noun_phrase(previous, body, tokens)
    if rewritten is None and (leaned or _missing_subject(tokens)):
        rewritten = body
    if rewritten is None:
        return None
    # The previous article's title keeps the search on the story the chat is about (names
    # alone when there is no title); a reader sees it in "(read as: ...)" too.
    context = previous.title or _context(previous, rewritten)
    if not context and rewritten == body:
        return None  # "and ..." with nothing known to add
    return _sentence_case(rewritten) + (f" ({context})" if context else "") + end


def _resolve_pronoun(previous: Turn, body: str, tokens: list[_Token]) -> str | None:
    """Replace the first pronoun that has nothing to refer to in the question itself."""
    for index, token in enumerate(tokens):
        kind = _pronoun_kind(tokens, index)
        if kind is None or _has_antecedent(tokens, index, kind):
            continue
        before = tokens[index - 1].low if index else ""
        if kind == "that" or (kind == "thing" and before in _REPORTING):
            statement = _statement(previous)
            if statement is None:
                return None
            said = "that " if before in _REPORTING else ""
            return body[: token.start] + said + statement + body[token.end :]
        referent = _referent(previous, kind)
        if referent is None:
            return None
        if token.low in _POSSESSIVE or (token.low == "her" and _possessive_her(tokens, index)):
            referent = referent + ("'" if referent.endswith("s") else "'s")
        return body[: token.start] + referent + body[token.end :]
    return None


def _pronoun_kind(tokens: list[_Token], index: int) -> str | None:
    """ "person", "thing", "plural" or "that" for a pronoun at ``index``, else None."""
    word = tokens[index].low
    if word in _DEMONSTRATIVE:
        following = tokens[index + 1].low if index + 1 < len(tokens) else ""
        if following in _PERSON_NOUNS or following in _THING_NOUNS:
            return None  # "that country": a noun phrase, read by _resolve_noun_phrase
        last = index == len(tokens) - 1
        after_aux = index > 0 and tokens[index - 1].low in _AUX
        return "that" if last or after_aux else None
    if word in _PERSON:
        return "person"
    if word in _PLURAL:
        return "plural"
    if word in _THING:
        # "which it company" is IT, not it; "what would it cost to build X" is a dummy it.
        if tokens[index].text == "IT" or (index and tokens[index - 1].low in ("which", "what")):
            return None
        if _dummy_it(tokens, index):
            return None
        return "thing"
    return None


def _dummy_it(tokens: list[_Token], index: int) -> bool:
    """ "how much did it cost to make Hitch": an ``it`` whose real subject follows a ``to``."""
    words = [t.low for t in tokens[index + 1 :]]
    if "to" not in words:
        return False
    last_to = len(words) - 1 - words[::-1].index("to")
    return any(w not in _FUNCTION for w in words[last_to + 2 :])


def _has_antecedent(tokens: list[_Token], index: int, kind: str) -> bool:
    """Whether the question itself holds what the pronoun at ``index`` refers to."""
    before = tokens[:index]
    if any(_is_name(t, at) for at, t in enumerate(before)):
        return True
    content = [t for t in before if t.low not in _FUNCTION]
    if len(content) >= 2:
        return True
    # "Who said he...", "Which company said it...": the pronoun is the wh-subject itself.
    if kind != "that" and len(tokens) > 1 and tokens[0].low in ("who", "which", "what", "whose"):
        verb_at = 1 if tokens[0].low == "who" else 2
        object_of_verb = index == verb_at + 1 and tokens[index].low in _OBJECTS
        if verb_at < index and tokens[verb_at].low not in _AUX and tokens[1].low not in _AUX:
            # "Who helped them?": the one who helped is not "them".
            return not object_of_verb and (kind != "thing" or tokens[0].low != "who")
    # A name after the pronoun ("How old was his father, John Smith?") may be what it means:
    # such a question is left as it is, to be safe.
    return any(_is_name(t, at) for at, t in enumerate(tokens) if at > index)


def _is_name(token: _Token, at: int) -> bool:
    return (
        at > 0
        and token.text[:1].isupper()
        and token.low not in _PRONOUNS
        and token.low not in _PERSON_NOUNS
        and token.text != "I"
    )


def _possessive_her(tokens: list[_Token], index: int) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1].low not in _FUNCTION


def _resolve_noun_phrase(previous: Turn, body: str, tokens: list[_Token]) -> str | None:
    """ "Where is the firm based?", "When did that country ask?": the noun stands for the last
    answer; only in a question with no name and little else of its own."""
    if any(t.text[:1].isupper() for t in tokens[1:]) or tokens[0].low not in _WH:
        return None
    for index in range(1, len(tokens) - 1):
        determiner, noun = tokens[index].low, tokens[index + 1].low
        if determiner not in ("the", "that", "this") or tokens[index - 1].low not in _AUX:
            continue
        if noun not in _PERSON_NOUNS and noun not in _THING_NOUNS:
            continue
        if sum(t.low not in _FUNCTION for t in tokens[:index]) > 1:
            continue  # "China bans ..., but how many smokers does the country have?"
        rest = [t for t in tokens[index + 2 :] if t.low not in _FUNCTION]
        if determiner == "the" and (len(rest) > 1 or (index + 2 < len(tokens) and not rest)):
            continue
        kind = "person" if noun in _PERSON_NOUNS else "place" if noun in _PLACES else "thing"
        referent = _referent(previous, kind)
        if referent is None:
            return None
        return body[: tokens[index].start] + referent + body[tokens[index + 1].end :]
    return None


def _missing_subject(tokens: list[_Token]) -> bool:
    """ "What was the score?": a wh-word, a verb and a noun that needs someone's."""
    words = [t.low for t in tokens]
    if len(words) not in (4, 5) or words[0] not in _WH or words[1] not in _AUX:
        return False
    return words[2] == "the" and words[3] in _RELATIONAL and words[4:] in ([], ["then"])


def _bare(previous: Turn, tokens: list[_Token], end: str) -> str | None:
    """ "When?", "How much?", "Why was that?": the wh-words about the previous statement."""
    statement = _statement(previous)
    if statement is None:
        return None
    dropped = _DEMONSTRATIVE | _PRONOUNS | _HAPPEN
    kept = [t.text for t in tokens if t.low not in dropped]
    while len(kept) > 1 and kept[-1].lower() in _AUX:
        kept = kept[:-1]
    return f"{_sentence_case(' '.join(kept))}: {statement}{end}"


def _about(previous: Turn, topic: str, end: str) -> str | None:
    """ "What about Tabqa?": the previous question with its last name replaced by the topic."""
    if not topic:
        return None
    question = previous.question.rstrip(" ?!.")
    names = _names(question)
    if names:
        at = question.rfind(names[-1])
        return question[:at] + topic + question[at + len(names[-1]) :] + end
    return f"{question} ({topic}){end}"


def _referent(previous: Turn, kind: str) -> str | None:
    """Who or what a pronoun of ``kind`` stands for: the last answer when it fits; else a name
    the previous question gives a title ("conductor Marcello Viotti"); else a name the answer
    sentence brought (a declined answer still showed it); else the previous question's own."""
    answer = previous.short_answer
    names = _names(previous.question)
    entity_answer = bool(answer) and previous.answer_type not in _NON_ENTITY_TYPES
    person_answer = entity_answer and _asks_person(previous) and not _org_like(answer)
    asked = previous.question.lower()
    brought = [n for n in _names(previous.sentence) if n.lower() not in asked]
    if kind == "place":
        if entity_answer and (answer or "")[:1].isupper() and not _DATE_WORDS.search(answer or ""):
            return answer  # "that country" after "whose officials?": "Polish"
        places = [n for n in brought if not _DATE_WORDS.search(n)]
        return places[0] if places else None
    if kind == "person":
        if person_answer:
            return answer
        if previous.speaker:
            return previous.speaker
        people = (
            _titled(previous.question)
            or [n for n in brought if _PERSON_NAME.match(n) and not _org_like(n)]
            or [n for n in names if not _org_like(n) and " " in n]
        )  # no person in sight: better asked as it is than about a place
        return people[0] if people else None
    if entity_answer and not person_answer:
        return answer
    if not answer and not person_answer:
        found = [n for n in brought if _org_like(n) or " " in n] or brought
        if found:
            return found[0]
    counted = _COUNTED.match(previous.question)
    if kind == "plural" and counted:  # "where did they go?" after "how many civilians left?"
        return "the " + counted.group(1)
    things = [n for n in names if _org_like(n) or " " in n or kind == "thing"] or names
    if not things:
        return None
    return max(things, key=len) if kind == "thing" else things[0]


def _titled(question: str) -> list[str]:
    """Names right after a person's title or job: "conductor Marcello Viotti", "Mr Howard"."""
    return [
        match.group(1)
        for match in _TITLED.finditer(question)
        if match.group(1).lower() not in _FUNCTION
    ]


def _asks_person(previous: Turn) -> bool:
    """Whether the previous question asked for a person: its type, or a "which chiropractor"
    whose noun reads as someone's job."""
    if previous.answer_type == "person":
        return True
    answer = previous.short_answer or ""
    return (
        previous.answer_type in ("other", "organisation")
        and _WHICH_NOUN.match(previous.question) is not None
        and _PERSON_NAME.match(answer) is not None
    )


def _statement(previous: Turn) -> str | None:
    """What the previous answer said, as a clause: "Robert Gates withdrew as ...", or the part
    of the answer sentence that holds the short answer, without who said it."""
    question = previous.question.rstrip(" ?!.")
    answer = previous.short_answer
    match = re.match(r"^(?:who|which \w+|what \w+)\s+(\S+)\s+(.+)$", question, re.I)
    if answer and match and match.group(1).lower() not in _AUX:
        return f"{answer} {match.group(1)} {match.group(2)}"
    if not previous.sentence:
        return None
    pieces = [p.strip(" ,;:-–—") for p in _STATEMENT_CUT.split(previous.sentence)]
    pieces = [p for p in pieces if len(p.split()) >= 3]
    if not pieces:
        return previous.sentence.rstrip(" .")
    holding = [p for p in pieces if answer and answer.lower() in p.lower()]
    if _asks_person(previous):  # the answer is who spoke: the statement is the other part
        holding = [p for p in pieces if p not in holding]
    chosen = (holding or [max(pieces, key=len)])[0]
    if previous.speaker:
        chosen = chosen.replace(previous.speaker, "").strip(" ,")
    return chosen.rstrip(" .")


def _context(previous: Turn, body: str) -> str:
    """The previous question's names (and an answer that is a name), for a question that says
    "and ..." or "what was the score" without saying about what."""
    lowered = body.lower()
    names = list(_names(previous.question))
    if previous.short_answer and previous.answer_type not in _NON_ENTITY_TYPES:
        names.append(previous.short_answer)
    kept = [n for n in dict.fromkeys(names) if n.lower() not in lowered]
    return ", ".join(kept)


def _names(text: str) -> list[str]:
    """Capitalised runs, without the question's first word when it stands alone."""
    names = []
    for match in _NAME.finditer(text):
        name = match.group().strip(" .'’")
        name = re.sub(r"['’]s$", "", name)
        if match.start() == 0:
            first, _, rest = name.partition(" ")
            if first.lower() in _WH or first.lower() in _AUX or not rest:
                name = rest if first.lower() in _WH | _AUX else ""
        if name and name.lower() not in _FUNCTION:
            names.append(name)
    return names


def _org_like(name: str | None) -> bool:
    return bool(name) and (
        bool(_ORG_WORDS.search(name or "")) or (name or "").lower().startswith("the ")
    )


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
