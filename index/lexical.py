"""The lexical side: BM25 over passages with bm25s, English stop words removed and Snowball stems.

Stemming lets "surrender" find "surrendered"; on SQuAD it is what moved BM25 the most.
"""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.errors import IndexCorruptError

_LANGUAGE = "english"


class LexicalIndex:
    """A BM25 index whose document ``i`` is passage row ``i`` of the build."""

    def __init__(self, retriever: bm25s.BM25, count: int) -> None:
        self.retriever = retriever
        self.count = count
        self._stemmer = Stemmer.Stemmer(_LANGUAGE)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        tokens = _tokenize(texts, Stemmer.Stemmer(_LANGUAGE))
        # bm25s refuses a corpus whose every token is a stop word; an empty token keeps it valid.
        retriever.index([doc or [""] for doc in tokens], show_progress=False)
        return cls(retriever, len(texts))

    def tokens(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of ``text`` that the index knows."""
        vocabulary = self.retriever.vocab_dict
        return [token for token in _tokenize([text], self._stemmer)[0] if token in vocabulary]

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for ``text`` (zeros when no term is known)."""
        terms = self.tokens(text)
        if not terms or self.count == 0:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(terms), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, count: int) -> LexicalIndex:
        # bm25s logs a progress bar and warnings at INFO; the caller's log stays readable.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        try:
            retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"BM25 files in {folder} are unreadable ({error})") from None
        return cls(retriever, count)


def _tokenize(texts: list[str], stemmer: Stemmer.Stemmer) -> list[list[str]]:
    tokenized = bm25s.tokenize(
        texts, lower=True, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )
    return [list(doc) for doc in tokenized]
