"""A question, read once: what kind of answer it wants, its content words and its own names.

Everything downstream (the candidate features, the short answer, abstention) reads this object,
never the raw string. Reading it is patterns plus a look-up of the names the build stored, so
the question path needs no tagger: spaCy stays a build-time tool.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from bm25s.stopwords import STOPWORDS_EN_PLUS

from index.corpus.articles import printable
from index.storage.lexical import terms_of


class AnswerType(StrEnum):
    """The kind of short answer a question asks for."""

    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percent"
    DURATION = "duration"
    WORK = "work"  # a film, book, song, show, award
    STATEMENT = "statement"  # "what did X say": the words said
    DESCRIPTION = "description"  # "who is X": X's role or organisation
    OTHER = "other"


# Which entity labels answer each type: the first tuple is a full match, the second a partial one
# ("who" is usually a person, sometimes a company; "how much" is a sum, sometimes a percentage).
LABELS: dict[AnswerType, tuple[frozenset[str], frozenset[str]]] = {
    AnswerType.PERSON: (frozenset({"PERSON"}), frozenset({"ORG", "NORP"})),
    AnswerType.ORGANISATION: (frozenset({"ORG"}), frozenset({"GPE", "NORP", "FAC", "PERSON"})),
    AnswerType.PLACE: (frozenset({"GPE", "LOC", "FAC"}), frozenset({"ORG", "NORP"})),
    AnswerType.DATE: (frozenset({"DATE", "TIME"}), frozenset({"CARDINAL", "EVENT"})),
    AnswerType.NUMBER: (
        frozenset({"CARDINAL", "QUANTITY"}),
        frozenset({"MONEY", "PERCENT", "DATE", "TIME", "ORDINAL"}),
    ),
    AnswerType.MONEY: (frozenset({"MONEY"}), frozenset({"PERCENT", "CARDINAL", "QUANTITY"})),
    AnswerType.PERCENT: (frozenset({"PERCENT"}), frozenset({"CARDINAL", "MONEY"})),
    AnswerType.DURATION: (frozenset({"DATE", "TIME"}), frozenset({"CARDINAL", "QUANTITY"})),
    AnswerType.WORK: (frozenset({"WORK_OF_ART", "EVENT", "PRODUCT"}), frozenset({"ORG", "LAW"})),
    AnswerType.STATEMENT: (frozenset(), frozenset()),
    AnswerType.DESCRIPTION: (frozenset(), frozenset()),
    AnswerType.OTHER: (frozenset(), frozenset()),
}

_ORG_NOUNS = (
    "company|companies|firm|firms|bank|banks|group|team|teams|club|clubs|side|studio|studios|band"
    "|party|parties|agency|organisation|organization|body|network|broadcaster|channel|airline"
    "|carrier|label|publisher|retailer|manufacturer|maker|newspaper|paper|magazine|union"
    "|university|school|college|court|council|ministry|department|authority|regulator|watchdog"
    "|operator|supermarket|chain|brand|business|giant|insurer|lender|broker|fund|investor|bidder"
    "|buyer|rival|opposition|charity|institute|association|federation|league|government"
    "|exchange|unit|subsidiary|division|partner|developer|website|site|service|store|shop"
    "|distributor|supplier|wholesaler|importer|exporter|contractor|conglomerate|consortium"
)
_PLACE_NOUNS = (
    "country|countries|city|cities|town|state|region|place|province|area|continent|venue"
    "|stadium|ground|capital|island|county|nation|port|village|district|street|location"
)
_WORK_NOUNS = (
    "film|films|movie|movies|book|novel|song|single|album|record|show|play|programme|program"
    "|series|game|award|awards|prize|title|trophy|musical|opera|drama|sitcom|documentary|product"
)
_TIME_NOUNS = "year|years|month|day|date|time|season|decade|century|week|quarter"
_DURATION_UNITS = "years|months|weeks|days|hours|minutes|seconds|seasons|decades"
_MONEY_NOUNS = (
    "price|amount|sum|cost|fee|salary|value|figure|total|bill|fine|deal|bid|offer|profit"
    "|profits|loss|losses|revenue|revenues|sales|turnover|budget|debt|dividend|payment"
)
_SAY = (
    r"say|says|said|tell|told|warn|warned|claim|claimed|argue|argued|add|added|announce|announced"
    r"|describe|described|call|called|predict|predicted|insist|insisted|suggest|suggested|admit"
    r"|admitted|promise|promised|urge|urged|reveal|revealed|believe|believed|think|thought|write"
    r"|wrote|state|stated|explain|explained|mean|meant|want|wanted|blame|blamed|accuse|accused"
    r"|compare|compared|confess|confessed|quote|quoted|reply|replied|respond|responded"
)

_FILLER = re.compile(
    r"^(?:and|so|but|ok|okay|please|hey|also|now|then|tell me|do you know|can you tell me"
    r"|could you tell me|i wonder|i want to know|any idea)[,:]?\s+"
)
# (pattern, type, asks for an attribution): tried in order on the lower-cased question.
_TYPE_PATTERNS: list[tuple[re.Pattern[str], AnswerType, bool]] = [
    (
        re.compile(
            rf"^(?:what|how) (?:did|does|do|has|have|had|will|would|was|is) (?P<speaker>.+?)"
            rf" (?:{_SAY})\b"
        ),
        AnswerType.STATEMENT,
        True,
    ),
    (
        re.compile(
            r"^what (?:was|were|is|are) (?P<speaker>.+?)'s? (?:reaction|response|view|verdict"
            r"|message|comment|warning|claim|explanation)\b"
        ),
        AnswerType.STATEMENT,
        True,
    ),
    (
        re.compile(
            rf"^(?:who|which (?:\w+ )?(?:person|man|woman|official|executive|minister|boss"
            rf"|spokesman|spokeswoman|analyst|player|manager|coach|leader|expert|economist"
            rf"|director|chief|chairman|president|member|mp|star|singer|actor|actress))"
            rf"(?: \w+)? (?:{_SAY})\b"
        ),
        AnswerType.PERSON,
        True,
    ),
    (
        re.compile(
            r"^who (?:is|was|'s) (?P<subject>(?:mr |mrs |ms |dr )?[\w.'’-]+(?: [\w.'’-]+){0,3})"
            r"(?:\?|,|$| in\b| from\b| at\b| of the story\b| mentioned\b)"
        ),
        AnswerType.DESCRIPTION,
        False,
    ),
    (
        re.compile(
            r"^what (?:is|was|are|were) (?P<subject>[\w.'’-]+(?: [\w.'’-]+){0,3})'s? "
            r"(?:job|role|position|title|post)\b"
        ),
        AnswerType.DESCRIPTION,
        False,
    ),
    (
        re.compile(
            rf"^(?:in |on |by |during |from |until |since )?(?:which|what) (?:{_TIME_NOUNS})\b"
            r"|^when\b|^since when\b|^by when\b|^how soon\b"
        ),
        AnswerType.DATE,
        False,
    ),
    (
        re.compile(rf"^how many (?:{_DURATION_UNITS})\b|^how long\b|^for how long\b"),
        AnswerType.DURATION,
        False,
    ),
    (
        re.compile(
            r"^(?:what|which) (?:percentage|percent|proportion|share|fraction|portion)\b"
            r"|^by what percentage\b|^what per cent\b|^by how much\b"
        ),
        AnswerType.PERCENT,
        False,
    ),
    (
        re.compile(
            rf"^how much\b|^(?:what|which) (?:was |is |were |are )?(?:the )?(?:{_MONEY_NOUNS})\b"
            r"|^for how much\b|^at what price\b"
        ),
        AnswerType.MONEY,
        False,
    ),
    (
        re.compile(
            r"^(?:after |in |for |at |by |of )?how (?:many|far|old|big|large|tall|high|often"
            r"|deep|wide|fast|heavy)\b|^(?:what|which) (?:number|age|rate|size|score|margin"
            r"|distance|speed)\b|^at what (?:age|rate|speed)\b"
        ),
        AnswerType.NUMBER,
        False,
    ),
    (re.compile(r"^where\b|^from where\b"), AnswerType.PLACE, False),
    (re.compile(r"^(?:who|whom|whose|to whom|by whom|with whom)\b"), AnswerType.PERSON, False),
    (re.compile(r"^what nationality\b"), AnswerType.ORGANISATION, False),
]
_PERSON_NOUNS = (
    "person|people|man|men|woman|women|official|officials|executive|minister|minster|boss|mp"
    "|spokesman|spokeswoman|analyst|player|players|manager|coach|leader|expert|economist"
    "|director|chief|chairman|chairwoman|president|member|star|singer|actor|actress|officer"
    "|broker|legend|millionaire|billionaire|founder|owner|winner|rival|opponent|judge|author"
    "|writer|director|producer|presenter|host|athlete|runner|striker|captain|skipper|forward"
    "|midfielder|defender|keeper|goalkeeper|batsman|bowler|driver|cyclist|boxer|golfer|champion"
    "|secretary|chancellor|mayor|governor|senator|candidate|clerk|trader|banker|investor|mother"
    "|father|son|daughter|wife|husband|brother|sister|name|lawyer|prosecutor|spokesperson"
    "|gamer|blogger|editor|journalist|reporter|artist|musician|rapper|comedian|celebrity|chef"
)
_PRICE_NOUNS = _MONEY_NOUNS + "|bid|pay-off|payoff|premium|earnings|income|wage|wages|pay|stake"
_NUMBER_NOUNS = (
    "number|count|age|rate|size|score|margin|distance|speed|attendance|crowd|majority|quota"
    "|capacity|population|tally|height|weight|length|volume|output|lead|advantage"
)
_HEAD_NOUNS: dict[str, AnswerType] = {
    **{w: AnswerType.PERSON for w in _PERSON_NOUNS.split("|")},
    **{w: AnswerType.ORGANISATION for w in (_ORG_NOUNS + "|carmaker|provider|militia").split("|")},
    **{w: AnswerType.PLACE for w in (_PLACE_NOUNS + "|part").split("|")},
    **{w: AnswerType.WORK for w in _WORK_NOUNS.split("|")},
    **{w: AnswerType.DATE for w in _TIME_NOUNS.split("|")},
    **{w: AnswerType.MONEY for w in _PRICE_NOUNS.split("|")},
    **{w: AnswerType.NUMBER for w in _NUMBER_NOUNS.split("|")},
    "growth": AnswerType.PERCENT,
}
_WHICH = re.compile(
    r"^(?:in |at |to |from |for |with |by |on |of |under |against )?(?:which|what)"
    r"(?: (?:is|was|are|were)(?: the)?)? (?P<words>.+)"
)
_POSSESSIVE = re.compile(r"['’]s?$")
_DESCRIBING_ENDS = frozenset(
    ("to", "with", "by", "for", "behind", "after", "against", "married", "dating", "engaged")
)
_STOP_WORDS = frozenset(STOPWORDS_EN_PLUS)
_SAYING = re.compile(_SAY)
_WHEN_LATE = re.compile(r"\b(?:since|until|till|by|from) when\b|\bwhen$")
_NAME_OF = re.compile(
    r"^what (?:is|was|were|are) the (?:full |real |first )?names? of (?:the |a |an )?"
)
# "What would the theatre cost", "what is Pernod Ricard worth", "expected to top what amount".
_PRICED = re.compile(
    r"^what (?:would|will|did|does|do|could|might|is|was|are|were) .+ (?:costing\b|(?:cost|worth)"
    r"(?:$|[,;]| in\b| according\b| for\b| to (?:build|buy|make|run)\b))"
    r"|\bwhat (?:amount|sum|price|figure|value)\b"
)
_ASKS_ATTRIBUTION = re.compile(rf"\b(?:{_SAY}|according to|quoted|quote)\b")
# Words that say what kind of answer is wanted, or that any sentence has, not what it is about.
FRAMING_TERMS = frozenset(
    terms_of(
        " ".join(STOPWORDS_EN_PLUS)
        + " how many much long who whom whose what when where which why did does do say says said"
        " tell told happen happened might could would also even ever still according"
    )
)
_NAME = re.compile(r"[A-Z][\w'’&.-]*(?:\s+(?:of|the|de|van|von|al|bin|and|&)?\s*[A-Z][\w'’&.-]*)*")
_WORD = re.compile(r"[\w'’&.-]+")
_MAX_NAME_WORDS = 4
_COUNTED = re.compile(r"\bhow (?:many|much|long|far|old)\s+(?P<noun>[a-z]+)")


@dataclass(frozen=True)
class Question:
    """One user question as every part of the answer reads it."""

    text: str
    answer_type: AnswerType
    terms: tuple[str, ...]  # stemmed content words (no framing words such as "how many")
    entities: tuple[str, ...]  # names the question itself holds ("Time Warner", "AOL")
    attribution: bool  # asks who said something, or what someone said
    speaker: str | None = None  # the X of "what did X say"
    subject: str | None = None  # the X of "who is X"

    @property
    def labels(self) -> frozenset[str]:
        """Entity labels that fully answer this question."""
        return LABELS[self.answer_type][0]

    @property
    def partial_labels(self) -> frozenset[str]:
        return LABELS[self.answer_type][1]

    # The words of the question's parts, stemmed as the index stems them: each candidate
    # sentence is checked against them, so they are split into terms once, here.
    @cached_property
    def speaker_terms(self) -> frozenset[str]:
        """The terms of the X of "what did X say" (none without a speaker)."""
        return frozenset(terms_of(self.speaker or ""))

    @cached_property
    def name_terms(self) -> tuple[frozenset[str], ...]:
        """The terms of each name the question holds, in ``entities``' order."""
        return tuple(frozenset(terms_of(name)) for name in self.entities)

    @cached_property
    def counted(self) -> str | None:
        """The stem of what "how many days" counts ("day"); None when it counts nothing."""
        match = _COUNTED.search(self.text.lower())
        noun = terms_of(match.group("noun")) if match else []
        return noun[0] if noun else None


NameLookup = Callable[[list[str]], dict[str, str]]


def parse_question(text: str, known_names: NameLookup | None = None) -> Question:
    """Read ``text`` once. ``known_names`` maps candidate names to the index's labels for them.

    Names are capitalised runs of words, and, so that a lower-case question finds them too,
    runs of up to four words the index knows as an entity name.
    """
    # A question is text: bytes that were not UTF-8 (kept as lone surrogates by Python) and
    # control characters become nothing the tokenizer or a terminal could trip over.
    text = printable(text.encode("utf-8", "replace").decode("utf-8"))
    clean = " ".join(text.split())
    lowered = _FILLER.sub("", clean.lower().rstrip(" ?!."))
    answer_type, attribution = AnswerType.OTHER, False
    speaker = subject = None
    for pattern, kind, attributes in _TYPE_PATTERNS:
        match = pattern.search(lowered)
        if match is not None:
            answer_type, attribution = kind, attributes
            groups = match.groupdict()
            speaker = _original(clean, groups.get("speaker"))
            subject = _original(clean, groups.get("subject"))
            if kind is AnswerType.DESCRIPTION and _not_a_name(groups.get("subject") or ""):
                answer_type, subject = AnswerType.PERSON, None  # "who is she married to"
            break
    if answer_type is AnswerType.OTHER and _PRICED.search(lowered):
        answer_type = AnswerType.MONEY
    if answer_type is AnswerType.OTHER:
        answer_type = _which_type(_NAME_OF.sub("which ", lowered))
    if answer_type is AnswerType.OTHER:
        answer_type = _embedded_type(lowered)
    attribution = attribution or bool(_ASKS_ATTRIBUTION.search(lowered))
    terms = tuple(term for term in terms_of(clean) if term not in FRAMING_TERMS)
    return Question(
        text=text,
        answer_type=answer_type,
        terms=terms,
        entities=_names(clean, known_names),
        attribution=attribution,
        speaker=speaker,
        subject=subject,
    )


def _not_a_name(subject: str) -> bool:
    """Whether the X of "who is X" describes someone instead of naming them: "team GB's best
    finisher", "mia hamm married to", "the new coach"."""
    words = subject.split()
    return bool(
        words
        and (
            any(_POSSESSIVE.search(word) and word[-2:] in ("'s", "’s") for word in words)
            or words[-1] in _DESCRIBING_ENDS
            or words[0] in ("the", "a", "an")
        )
    )


def _which_type(lowered: str) -> AnswerType:
    """ "Which UK logistics company ...": the type of the head noun after which/what.

    The head is the last of a run of known nouns in the first four words ("company boss" is a
    person); an unknown noun ("which Italian") is taken for an organisation, whose partial
    labels include people.
    """
    match = _WHICH.match(lowered)
    if match is None:
        return AnswerType.OTHER
    head: AnswerType | None = None
    coordinated = False  # "which film and television distributor": the last noun is the head
    for word in match.group("words").split()[:5]:
        word = _POSSESSIVE.sub("", word.strip(",;:'’"))
        kind = _HEAD_NOUNS.get(word) or _HEAD_NOUNS.get(word.rstrip("s"))
        if kind is not None:
            head, coordinated = kind, False
        elif head is not None and word in ("and", "or"):
            coordinated = True
        elif coordinated and word not in _STOP_WORDS:
            continue
        elif head is not None or word in _STOP_WORDS or _SAYING.fullmatch(word):
            break  # the noun phrase ended: "which institute's report said incomes fell"
    if head is not None:
        return head
    if lowered.startswith("which"):
        return AnswerType.ORGANISATION
    return AnswerType.OTHER


def _embedded_type(lowered: str) -> AnswerType:
    """A wh-word later in the question: "Time Warner's profit rose by how much"."""
    for start in (m.end() for m in re.finditer(r"[,;:] |\b(?:and|but) ", lowered)):
        for pattern, kind, _ in _TYPE_PATTERNS[5:]:  # past the attribution patterns
            if pattern.search(lowered[start:]):
                return kind
        kind = _which_type(lowered[start:])  # "besides Westpac, which firm ..."
        if kind is not AnswerType.OTHER:
            return kind
    if _WHEN_LATE.search(lowered):
        return AnswerType.DATE
    if re.search(r"\bhow much\b", lowered):
        return AnswerType.MONEY
    if re.search(r"\bhow many\b", lowered):
        return AnswerType.NUMBER
    return AnswerType.OTHER


def _original(text: str, lowered_part: str | None) -> str | None:
    """The span of ``text`` that a lower-cased group matched, in its own case."""
    if not lowered_part:
        return None
    at = text.lower().find(lowered_part)
    return text[at : at + len(lowered_part)] if at >= 0 else lowered_part


def _names(text: str, known_names: NameLookup | None) -> tuple[str, ...]:
    names: list[str] = []
    for match in _NAME.finditer(text):
        name = match.group().strip(" .'’")
        # The first word of a question is capitalised anyway: keep it only as part of a run.
        if match.start() == 0 and " " not in name:
            continue
        if name and name.lower() not in FRAMING_TERMS:
            names.append(name)
    if known_names is not None:
        words = [w[:-2] if w.endswith(("'s", "’s")) else w for w in _WORD.findall(text)]
        grams = [
            " ".join(words[i : i + n])
            for n in range(_MAX_NAME_WORDS, 0, -1)
            for i in range(len(words) - n + 1)
        ]
        grams = [g for g in grams if not all(w.lower() in FRAMING_TERMS for w in g.split())]
        known = known_names(grams)
        taken: list[str] = []
        for gram in grams:  # longest first: "time warner" before "warner"
            if gram.lower() in known and not any(gram.lower() in t.lower() for t in taken):
                taken.append(gram)
        names.extend(t for t in taken if not any(t.lower() in n.lower() for n in names))
    return tuple(dict.fromkeys(names))
