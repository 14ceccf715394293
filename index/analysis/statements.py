"""Who said what: attributed statements read from an article's sentences and their entities.

News attributes in a few regular shapes: ``"...," X said.``, ``X said (that) ...``,
``..., said X.``, ``according to X, ...``, and later in the story ``he added`` or ``the
spokesman said`` for a speaker already named. Patterns over the text plus the build's PERSON and
ORG spans read these well enough, so this runs at build time in plain Python (no parser) and the
question path only reads the stored rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.analysis.entities import Entity

SPEAKER_LABELS = frozenset({"PERSON", "ORG"})
_VERBS = (
    r"said|says|say|told|tells|added|adds|warned|warns|claimed|claims|argued|argues|insisted"
    r"|insists|announced|announces|explained|explains|stated|states|admitted|admits|urged|urges"
    r"|predicted|predicts|suggested|suggests|maintained|declared|stressed|noted|acknowledged"
    r"|conceded|confirmed|revealed|wrote|writes|replied|responded|commented|continued"
    r"|believes|believed|thinks|described|called|pointed out|went on|asked"
    r"|quoted [^,.\"]{1,60}? as saying"
    r"|cited [^,.\"]{1,60}? as saying"
)
_VERB = re.compile(rf"\b(?:{_VERBS})\b")
_ACCORDING = re.compile(r"\baccording to\b", re.IGNORECASE)
_HONORIFIC = re.compile(
    r"(?:Mr|Mrs|Ms|Miss|Dr|Col|Gen|Prof|Sen|Rep|Lt|Capt|Sgt|Maj|Adm|Gov|Rev|Insp|Det)\.?\s+$"
)
_HONORIFIC_IN = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Col|Gen|Prof|Sen|Rep|Lt|Capt|Sgt|Maj|Adm|Gov|Rev)\.?\s+", re.IGNORECASE
)
# Between the speaker and the verb: nothing, an adverb, or an appositive (", the spokesman for
# the SDF," or ", an expert on Arabic studies" with its closing comma forgotten).
_ADVERBS = (
    r"also|later|has|had|have|would|will|then|once|again|previously|recently|earlier|yesterday"
    r"|today|himself|herself|itself|last \w+|on \w+day|simply|publicly|privately|repeatedly"
    r"|separately|subsequently|further|however|initially|now|still|even|repeatedly|also"
)
_PLAIN_GAP = re.compile(
    rf"^(?:\s*\([^)]{{1,40}}\)|\s+of\s+[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*)?(?:\s+(?:{_ADVERBS}))*\s*$"
    rf"|^\s+[a-z]\w*(?:\s+[\w'’-]+){{0,6}}\s+and(?:\s+(?:{_ADVERBS}))*\s*$"
)
_INVERTED_GAP = re.compile(r"\s*(?:the\s+)?(?:[\w.'’-]+\s+){0,4}")
_APPOSITIVE_GAP = re.compile(
    rf"^(?:\s+[a-z][\w-]*){{0,2}}\s*,[^\"“”]{{2,160}},(?:\s+(?:{_ADVERBS}))*\s*$"
    r"|^\s*,[^,\"“”]{2,60}$"
)
_PRONOUN = re.compile(r"(?:^|[\s,\"“”])(he|she|it|they)(?:\s+(?:" + _ADVERBS + r"))*\s*$", re.I)
_PERSON_ROLES = (
    "spokesman|spokeswoman|spokesperson|minister|official|chairman|chairwoman|president|director"
    "|chief|executive|secretary|leader|analyst|economist|source|adviser|advisor|lawyer"
    "|prosecutor|judge|manager|coach|commander|general|governor|mayor|chancellor|premier|mp"
)
_ORG_ROLES = (
    "company|firm|group|bank|ministry|department|party|government|agency|council|union"
    "|organisation|organization|statement|report|network|broadcaster|airline|club|club's|court"
    "|office|militia|coalition|forces|army|police|board|committee|commission|regulator|watchdog"
    "|carmaker|retailer|insurer|studio|label|newspaper|paper|team|body|authority|institute"
)
_ROLE_SUBJECT = re.compile(
    rf"(?:^|[\s,\"“”])(?:the|a|an|its|his|her|their) (?:[\w-]+ ){{0,2}}"
    rf"(?P<noun>{_PERSON_ROLES}|{_ORG_ROLES})(?:\s+(?:{_ADVERBS}))*\s*$",
    re.I,
)
# A capitalised name the tagger missed ("Mourinho said", "Lord Browne said").
_BARE_NAME = re.compile(
    r"(?:^|[\s,\"“”(])(?P<name>(?:(?:Mr|Mrs|Ms|Dr|Lord|Lady|Sir|Dame|Baroness|Col|Gen|Sen)\.?\s+)?"
    r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})"
    rf"(?:\s+(?:{_ADVERBS}))*\s*$"
)
_NOT_NAME_WORDS = (
    "The It He She They This That These Those We I You But And A An There Here Which Who"
    " What Officials Police Analysts Experts Sources Critics Reports Others Many Some Most"
    " Both One Their His Her Its Our My Your Such Yesterday Today Monday Tuesday Wednesday"
    " Thursday Friday Saturday Sunday Government Ministers Minister Spokesman Spokeswoman"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
_GENERIC_ORG_ROLE_WORDS = (
    "company firm group bank carmaker retailer insurer airline studio label network broadcaster"
)
_GENERIC_ORG_ROLES = frozenset(_GENERIC_ORG_ROLE_WORDS.split())
_SPEAKER_REACH = 6  # sentences back that "he said" may reach for a named speaker
_MENTION_REACH = 3  # ... and for a name mentioned without speaking
_ORG_ROLE_WORDS = frozenset(_ORG_ROLES.split("|"))
# "..., X said in a Facebook post.": what follows the verb says where, not what.
_CIRCUMSTANCE = re.compile(
    r"\s*(?:in|on|at|during|to|after|before|last|yesterday|earlier|later|today|from|via|while)\b"
)
_SAID_FOLLOWS = re.compile(r"\bthat\b|:|[\"“]")
_BEFORE_INVERTED = re.compile(r"[,\"”'’]\s*$")
# "added" reports only before what was added: "he added: ...", "added that", "..., he added."
_ADDED_REPORTS = re.compile(r"\s*(?:that\b|:|,|\"|“|\.|$)")
# Verbs that report only before what was said ("he added: ...", "confirmed that"), not when
# their object is a thing ("added smart folders", "an EP called Dead", "confirmed their form").
_WEAK_VERBS = {
    **dict.fromkeys(
        (
            "added",
            "adds",
            "confirmed",
            "announced",
            "revealed",
            "noted",
            "claimed",
            "claims",
            "went on",
        ),
        _ADDED_REPORTS,
    ),
    **dict.fromkeys(("called", "described"), re.compile(r"[^\"“.]{0,40}[\"“]")),
}
_QUOTE_CLOSE = re.compile(r"[\"”'’]\s*$")
_LEAD = re.compile(r"^[\s,:;\"“”]+")
_TRAIL = re.compile(r"[\s,:;\"“”.]+$")
_ROLE_STOP = re.compile(r"[,;:\"“”()]|\b(?:and|that|but|while|as|when|after|before)\b")
_MIN_WORDS = 3


@dataclass(frozen=True)
class Statement:
    """One attributed statement: its sentence (the position in the article), who, and what."""

    sentence: int  # index of the sentence in the article's sentences
    speaker: str  # the fullest name the article gives ("Mustafa Bali" for "Mr Bali")
    key: str  # how the speaker is looked up across articles (lower case, single spaces)
    surname: str  # the last word of a person's key; an organisation's whole key
    label: str  # PERSON or ORG
    role: str  # the title the article gives ("SDF spokesman"), may be empty
    verb: str
    start: int  # the statement's span in the sentence text
    end: int
    resolved: bool  # the sentence names the speaker by a pronoun or a role ("he added")


@dataclass
class _Speaker:
    name: str
    label: str
    role: str


@dataclass(frozen=True)
class _Found:
    speaker: _Speaker
    verb: str
    start: int
    end: int
    resolved: bool


def speaker_key(name: str) -> str:
    """Lower case, single spaces, no possessive: the cross-article key of a speaker's name."""
    text = " ".join(name.lower().split())
    return text[:-2] if text.endswith(("'s", "’s")) else text


def extract_statements(sentences: Sequence[tuple[str, tuple[Entity, ...]]]) -> list[Statement]:
    """The statements of one article, given its sentences in order with their entities."""
    reader = _ArticleReader()
    found: list[Statement] = []
    for position, (text, entities) in enumerate(sentences):
        statement = reader.read(text, entities)
        if statement is not None:
            name = statement.speaker.name
            key = speaker_key(name)
            surname = key.split()[-1] if statement.speaker.label == "PERSON" else key
            found.append(
                Statement(
                    position,
                    name,
                    key,
                    surname,
                    statement.speaker.label,
                    statement.speaker.role,
                    statement.verb,
                    statement.start,
                    statement.end,
                    statement.resolved,
                )
            )
        reader.remember(text, entities)
    return found


class _ArticleReader:
    """Reads sentences in order, remembering names and speakers for later pronouns and roles."""

    def __init__(self) -> None:
        self.full_names: dict[str, str] = {}  # surname (lower) -> first full name in the article
        self.position = 0  # the sentence being read
        self.speakers: list[tuple[int, _Speaker]] = []  # named speakers, with their sentence
        self.mentioned: list[tuple[int, str, str]] = []  # (sentence, label, name) of entities

    def remember(self, text: str, entities: tuple[Entity, ...]) -> None:
        for entity in entities:
            if entity.label in SPEAKER_LABELS:
                name = clean_name(entity.text_in(text))
                if name:
                    full = self.full_name(name, entity.label)
                    self.mentioned.append((self.position, entity.label, full))
        self.position += 1

    def full_name(self, name: str, label: str) -> str:
        """ "Bali" -> "Mustafa Bali" when the article named him in full before."""
        if label != "PERSON":
            return name
        words = name.split()
        if len(words) >= 2:
            self.full_names.setdefault(words[-1].lower(), name)
            return name
        return self.full_names.get(name.lower(), name)

    def read(self, text: str, entities: tuple[Entity, ...]) -> _Found | None:
        for entity in entities:  # full names first, so a later "Bali" in this sentence resolves
            if entity.label == "PERSON":
                self.full_name(clean_name(entity.text_in(text)), "PERSON")
        found = self._according(text, entities)
        if found is None:
            for verb in _VERB.finditer(text):
                found = self._at_verb(text, entities, verb)
                if found is not None:
                    break
        if found is not None:
            if found.end - found.start < 2 or len(text[found.start : found.end].split()) < (
                _MIN_WORDS
            ):
                return None
            if not found.resolved:
                self.speakers.append((self.position, found.speaker))
        return found

    def _at_verb(
        self, text: str, entities: tuple[Entity, ...], verb: re.Match[str]
    ) -> _Found | None:
        before = text[: verb.start()]
        if verb.group() in _WEAK_VERBS and not _WEAK_VERBS[verb.group()].match(text[verb.end() :]):
            return None
        speaker, subject_start, resolved = self._subject(text, entities, verb.start())
        if speaker is None:
            # "..., said John Smith" (the speaker after the verb; after "told", the hearer)
            if verb.group().startswith("tel") or verb.group() == "told":
                return None
            if not _BEFORE_INVERTED.search(before):
                return None
            after = self._inverted(text, entities, verb.end())
            if after is None:
                return None
            start, end = _span(text, 0, verb.start())
            return _Found(after, verb.group(), start, end, False)
        tail = text[verb.end() :]
        quoted_before = (
            _QUOTE_CLOSE.search(_TRAIL_COMMA.sub("", before[:subject_start])) is not None
        )
        long_after = (
            len(tail.split()) >= _MIN_WORDS
            and not tail.lstrip().startswith(",")
            and not (_CIRCUMSTANCE.match(tail) and not _SAID_FOLLOWS.search(tail))
        )
        if subject_start > 0 and (quoted_before or not long_after):
            start, end = _span(text, 0, subject_start)
        else:
            start, end = _span(text, verb.end() + _skip_to_content(tail, verb.group()), len(text))
        return _Found(speaker, verb.group(), start, end, resolved)

    def _subject(
        self, text: str, entities: tuple[Entity, ...], verb_start: int
    ) -> tuple[_Speaker | None, int, bool]:
        """The speaker right before the verb: a named entity, a pronoun or a role noun."""
        for entity in sorted(entities, key=lambda e: -e.end):
            if entity.label not in SPEAKER_LABELS or entity.end > verb_start:
                continue
            gap = text[entity.end : verb_start]
            if _PLAIN_GAP.match(gap) or _APPOSITIVE_GAP.match(gap):
                name = self.full_name(clean_name(entity.text_in(text)), entity.label)
                if not name:
                    continue
                role = _role(text, entity, gap)
                start = _subject_start(text, entity.start)
                return _Speaker(name, entity.label, role), start, False
        before = text[:verb_start]
        bare = _BARE_NAME.search(before)
        if bare is not None and bare.group("name").split()[0] not in _NOT_NAMES:
            name = self.full_name(clean_name(bare.group("name")), "PERSON")
            label = "ORG" if any(m[1:] == ("ORG", name) for m in self.mentioned) else "PERSON"
            start = _subject_start(text, bare.start("name"))
            role = _HONORIFIC.sub("", text[start : bare.start("name")]).strip()
            return _Speaker(name, label, role if role[:1].isupper() else ""), start, False
        pronoun = _PRONOUN.search(before)
        if pronoun is not None:
            word = pronoun.group(1).lower()
            speaker = self._resolve_pronoun(word)
            return speaker, pronoun.start(1), speaker is not None
        by_role = _ROLE_SUBJECT.search(before)
        if by_role is not None:
            speaker = self._resolve_role(by_role.group("noun").lower())
            start = by_role.start() + (1 if by_role.group()[0] in ' ,"“”' else 0)
            return speaker, start, speaker is not None
        return None, 0, False

    def _inverted(self, text: str, entities: tuple[Entity, ...], verb_end: int) -> _Speaker | None:
        """ "..., said HMV manager Clive Smith": a person within a few words after the verb
        (before an organisation there, which is more often the person's employer)."""
        near = [
            entity
            for entity in entities
            if entity.label in SPEAKER_LABELS
            and entity.start >= verb_end
            and _INVERTED_GAP.fullmatch(text[verb_end : entity.start])
        ]
        near.sort(key=lambda entity: (entity.label != "PERSON", entity.start))
        if not near:
            return None
        entity = near[0]
        name = self.full_name(clean_name(entity.text_in(text)), entity.label)
        role = _HONORIFIC.sub("", text[verb_end : entity.start]).strip()
        return _Speaker(name, entity.label, role) if name else None

    def _according(self, text: str, entities: tuple[Entity, ...]) -> _Found | None:
        match = _ACCORDING.search(text)
        if match is None:
            return None
        for entity in entities:
            if entity.label not in SPEAKER_LABELS or entity.start < match.end():
                continue
            if not re.fullmatch(
                r"\s*(?:the\s+)?(?:[\w.-]+\s+){0,3}", text[match.end() : entity.start]
            ):
                return None
            name = self.full_name(clean_name(entity.text_in(text)), entity.label)
            if not name:
                return None
            speaker = _Speaker(name, entity.label, "")
            if match.start() == 0 or not text[: match.start()].strip(' ,"“”'):
                comma = text.find(",", entity.end)
                if comma < 0:
                    return None
                start, end = _span(text, comma + 1, len(text))
            else:
                start, end = _span(text, 0, match.start())
            return _Found(speaker, "according to", start, end, False)
        return None

    def _resolve_pronoun(self, word: str) -> _Speaker | None:
        if word in ("he", "she"):
            return self._recent("PERSON")
        if word == "it":
            return self._recent("ORG")
        return None  # "they": too often a group never named

    def _resolve_role(self, noun: str) -> _Speaker | None:
        if noun in _GENERIC_ORG_ROLES:
            return self._recent("ORG")
        if noun in _ORG_ROLE_WORDS:  # "the party", "the paper": only one that says so
            for _, speaker in reversed(self.speakers):
                if speaker.label == "ORG" and noun in speaker.name.lower():
                    return speaker
            return None
        for _, speaker in reversed(self.speakers):
            if speaker.label == "PERSON" and noun in speaker.role.lower():
                return speaker
        return None

    def _recent(self, label: str) -> _Speaker | None:
        """The last speaker of ``label`` a few sentences back, else the only one mentioned
        just before; None when that is not clear (a wrong name is worse than none)."""
        for position, speaker in reversed(self.speakers):
            if self.position - position > _SPEAKER_REACH:
                break
            if speaker.label == label:
                # another of the kind named since ("his wife Sharon"): "she" may be either
                others = {
                    name
                    for at, kind, name in self.mentioned
                    if at > position and kind == label and name != speaker.name
                }
                return None if others else speaker
        names = {
            name
            for position, kind, name in self.mentioned
            if kind == label and self.position - position <= _MENTION_REACH
        }
        return _Speaker(names.pop(), label, "") if len(names) == 1 else None


_TRAIL_COMMA = re.compile(r"[\s,]+$")


def clean_name(text: str) -> str:
    """A name without its honorific, possessive or quotes: "Mr Blair's" -> "Blair"."""
    name = _HONORIFIC_IN.sub("", " ".join(text.split()))
    name = re.sub(r"['’]s$", "", name).strip(" .,'\"“”’")
    return name


def _subject_start(text: str, entity_start: int) -> int:
    """Where the speaker's noun phrase begins: the role words before the name included."""
    clause = text[:entity_start]
    stop = max((m.end() for m in _ROLE_STOP.finditer(clause)), default=0)
    return stop + len(clause[stop:]) - len(clause[stop:].lstrip())


def _role(text: str, entity: Entity, gap: str) -> str:
    """The title the sentence gives: words before the name ("SDF spokesman"), or the
    appositive after it ("the spokesman for the Kurdish-led Syrian Democratic Forces")."""
    start = _subject_start(text, entity.start)
    before = _HONORIFIC.sub("", text[start : entity.start]).strip()
    if (before and before[0].isupper()) or before.lower().startswith(("the ", "former ")):
        return before
    appositive = gap.strip().strip(",").strip()
    if appositive and "," not in appositive and len(appositive.split()) <= 12:
        return appositive
    return ""


def _skip_to_content(tail: str, verb: str) -> int:
    """Past "that", a colon, or the hearer of "told": where the words said begin."""
    head = tail[:90]
    colon = head.find(":")
    quote = min((i for i in (head.find('"'), head.find("“")) if i >= 0), default=-1)
    if colon >= 0 and (quote < 0 or colon < quote):
        return colon + 1
    that = re.search(r"\bthat\b", head[:60])
    if that is not None and (verb.startswith(("told", "tell")) or that.start() < 30):
        return that.end()
    return 0


def _span(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` with leading and trailing quotes, commas and spaces trimmed."""
    part = text[start:end]
    lead = _LEAD.match(part)
    start += lead.end() if lead else 0
    part = text[start:end]
    trail = _TRAIL.search(part)
    end -= len(part) - trail.start() if trail else 0
    return start, max(start, end)
