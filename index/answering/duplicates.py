"""Near-duplicate sentences: one fact told by two articles (a syndicated or updated story).

An archive holds the same story more than once (the BBC set keeps updated versions; wires are
reprinted). A reader wants the fact once, with where else it was told, not the same sentence
twice in a list. Two sentences are one statement when their indexed words (stemmed, stop words
out) overlap almost wholly: Jaccard >= ``SAME_STATEMENT``, so an updated figure or a dropped
clause still counts as the same sentence while two sentences that merely share a topic do not.
"""

from __future__ import annotations

from functools import lru_cache

from index.storage.lexical import terms_of

SAME_STATEMENT = 0.8  # word-set overlap at which two sentences say the same thing
MIN_TERMS = 4  # shorter sentences ("He said so.") are alike by chance, never merged


@lru_cache(maxsize=4096)
def _terms(sentence: str) -> frozenset[str]:
    return frozenset(terms_of(sentence))


def same_statement(first: str, second: str) -> bool:
    """Whether two sentences tell the same fact in (nearly) the same words."""
    a, b = _terms(first), _terms(second)
    if len(a) < MIN_TERMS or len(b) < MIN_TERMS:
        return first.strip() == second.strip() and bool(a)
    return len(a & b) / len(a | b) >= SAME_STATEMENT
