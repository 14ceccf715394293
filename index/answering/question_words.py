"""The question's words as the index weighs them, and each text's words, stemmed once.

The candidate features measure how much of the question a text covers (its idf-weighted
words), and which of the question's names it holds. One answer reads the same sentences,
passages and titles many times: ``Stems`` splits each text into terms once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from index.analysis.entities import Entity
from index.answering.question import Question
from index.search.searcher import SearchResult
from index.storage.lexical import term_spans

Spans = list[tuple[int, int, str]]  # (start, end, stem) of each indexed word
_CONTEXT = 6  # indexed words either side of a wanted span that count as its context


@dataclass
class Stems:
    """Each text's indexed words, split once per answer.

    A passage's or a window's words are the union of its sentences' (the same words, since no
    word spans two sentences) instead of the joined text split again.
    """

    _spans: dict[str, Spans] = field(default_factory=dict)
    _lists: dict[str, list[str]] = field(default_factory=dict)
    _sets: dict[str, set[str]] = field(default_factory=dict)

    def spans(self, text: str) -> Spans:
        found = self._spans.get(text)
        if found is None:
            found = self._spans[text] = term_spans(text)
        return found

    def ordered(self, text: str) -> list[str]:
        """The terms of ``text`` in order (``lexical.terms_of``)."""
        found = self._lists.get(text)
        if found is None:
            found = self._lists[text] = [stem for _, _, stem in self.spans(text)]
        return found

    def present(self, text: str) -> set[str]:
        """The terms of ``text`` as a set (do not change it: it is shared)."""
        found = self._sets.get(text)
        if found is None:
            found = self._sets[text] = set(self.ordered(text))
        return found

    def union(self, texts: list[str]) -> set[str]:
        words: set[str] = set()
        for text in texts:
            words |= self.present(text)
        return words


class QuestionWords:
    """The question's terms weighted by the index's idf, and how much of them a text covers.

    Terms the index never saw weigh as much as the rarest known one, so a question about
    something the articles never mention covers little anywhere.
    """

    def __init__(self, question: Question, result: SearchResult, stems: Stems) -> None:
        asked = set(question.terms)
        self.weights = {t: w for t, w in result.term_weights.items() if t in asked}
        self.unknown = [t for t in question.terms if t not in result.term_weights]
        self.unknown_weight = max(self.weights.values(), default=1.0)
        self.total = sum(self.weights.values()) + len(self.unknown) * self.unknown_weight
        self.rarest = max(self.weights.values(), default=0.0)
        self.bigrams = set(pairwise(question.terms))
        self.name_terms = question.name_terms
        self.name_stems: set[str] = set().union(*self.name_terms) if self.name_terms else set()
        self._stems = stems

    def unknown_share(self) -> float:
        """The weight of the words the index never saw, over the whole question's."""
        return (len(self.unknown) * self.unknown_weight / self.total) if self.total > 0 else 0.0

    def coverage(self, words: set[str]) -> float:
        if self.total <= 0:
            return 0.0
        return sum(w for term, w in self.weights.items() if term in words) / self.total

    def names_in(self, words: set[str]) -> float:
        """The share of the question's names all of whose words are in ``words`` (1: none)."""
        if not self.name_terms:
            return 1.0
        held = sum(bool(terms) and terms <= words for terms in self.name_terms)
        return held / len(self.name_terms)

    def specific(self, words: set[str], title: str) -> float:
        """Coverage by the words the question adds to its story's title: what it asks."""
        title_words = self._stems.present(title)
        own = {t: w for t, w in self.weights.items() if t not in title_words}
        return _share(own, words)

    def predicate(self, words: set[str], title: str) -> float:
        """Coverage by what the question asks beyond its names and its story's title."""
        title_words = self._stems.present(title)
        own = {
            t: w
            for t, w in self.weights.items()
            if t not in self.name_stems and t not in title_words
        }
        return _share(own, words)

    def rarest_matched(self, words: set[str]) -> float:
        """The idf of the rarest question word the sentence holds, over the rarest one asked."""
        if self.rarest <= 0:
            return 0.0
        return max((w for t, w in self.weights.items() if t in words), default=0.0) / self.rarest

    def bigrams_in(self, terms: list[str]) -> float:
        """Share of the question's adjacent word pairs that the sentence has adjacent too."""
        if not self.bigrams:
            return 0.0
        return len(self.bigrams & set(pairwise(terms))) / len(self.bigrams)

    def typed_context(self, text: str, typed: list[tuple[Entity, bool]]) -> float:
        """The best coverage of the question's words next to one wanted span: "due in court on
        18 April" answers "when are they next due in court" though the names are elsewhere."""
        if not typed or self.total <= 0:
            return 0.0
        spans = self._stems.spans(text)
        best = 0.0
        for entity, _ in typed:
            before = [stem for _, end, stem in spans if end <= entity.start][-_CONTEXT:]
            after = [stem for start, _, stem in spans if start >= entity.end][:_CONTEXT]
            best = max(best, self.coverage(set(before) | set(after)))
        return best


def _share(weights: dict[str, float], words: set[str]) -> float:
    whole = sum(weights.values())
    if whole <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in words) / whole
