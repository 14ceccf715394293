"""The lexical side: BM25 over passages with bm25s, English stop words removed and Snowball stems.

Stemming lets "surrender" find "surrendered"; on SQuAD it is what moved BM25 the most.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.errors import IndexCorruptError

_LANGUAGE = "english"
# Tuned on SQuAD dev articles 0-23: a low k1 saturates term frequency early, which suits
# questions that repeat a passage's rare words once (MRR@10 0.8858 at 0.9 → 0.8916 at 0.6).
BM25_K1 = 0.6
BM25_B = 0.75
_per_thread = threading.local()
# bm25s's defaults: words of two or more word characters, lower-cased, English stop words out.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


class LexicalIndex:
    """A BM25 index whose document ``i`` is passage row ``i`` of the build."""

    def __init__(self, retriever: bm25s.BM25, count: int) -> None:
        self.retriever = retriever
        self.count = count

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        """Index ``texts`` (document ``i`` is ``texts[i]``)."""
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        tokens = _tokenize(texts, _thread_stemmer())
        # bm25s refuses a corpus whose every token is a stop word; an empty token keeps it valid.
        retriever.index([doc or [""] for doc in tokens], show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def from_token_ids(cls, documents: TokenIds) -> LexicalIndex:
        """Index documents already turned into token ids (see ``TokenIds``)."""
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.index(documents, show_progress=False)
        return cls(retriever, len(documents))

    @property
    def counted_passages(self) -> int:
        """The passages ``document_frequencies`` counts in (for the idf)."""
        return self.count

    def all_terms(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of ``text``, known to the index or not."""
        return terms_of(text)

    def scores_for_terms(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for already stemmed ``terms`` (zeros when none known)."""
        known = [term for term in terms if term in self.retriever.vocab_dict]
        if not known or self.count == 0:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for ``text``."""
        return self.scores_for_terms(self.all_terms(text))

    def document_frequencies(self) -> dict[str, int]:
        """In how many passages each term occurs (from the index's column pointers)."""
        pointers = np.asarray(self.retriever.scores["indptr"])
        counts = np.diff(pointers)
        return {
            term: int(counts[column])
            for term, column in self.retriever.vocab_dict.items()
            if column < len(counts)
        }

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


class TokenIds(Sequence[list[int]]):
    """Documents as token ids, added a batch at a time: 4 bytes a token instead of a Python
    string each, so a build holds millions of passages' tokens in a few hundred MB.

    bm25s indexes any sequence of id lists with a ``vocab`` (its "ids and vocab" object), so it
    reads the documents from here one at a time, as lists, without a second copy of the corpus.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._chunks: list[np.ndarray] = []
        self._ends: list[np.ndarray] = []
        self._added = 0  # tokens in earlier chunks
        self._flat: np.ndarray | None = None
        self._bounds: np.ndarray | None = None

    def add(self, texts: list[str]) -> None:
        """Tokenize ``texts`` as ``LexicalIndex.build`` does and keep their ids."""
        ids: list[int] = []
        ends: list[int] = []
        vocab = self.vocab
        for document in _tokenize(texts, _thread_stemmer()):
            for token in document or [""]:  # as ``build``: an all-stop-word passage stays valid
                ids.append(vocab.setdefault(token, len(vocab)))
            ends.append(self._added + len(ids))
        self._chunks.append(np.asarray(ids, dtype=np.int32))
        self._ends.append(np.asarray(ends, dtype=np.int64))
        self._added += len(ids)
        self._flat = self._bounds = None

    @property
    def ids(self) -> TokenIds:
        return self

    def _joined(self) -> tuple[np.ndarray, np.ndarray]:
        if self._flat is None or self._bounds is None:
            self._flat = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int32)
            self._chunks = [self._flat]
            ends = np.concatenate(self._ends) if self._ends else np.zeros(0, np.int64)
            self._ends = [ends]
            self._bounds = np.concatenate([np.zeros(1, np.int64), ends])
        return self._flat, self._bounds

    def __len__(self) -> int:
        return sum(len(ends) for ends in self._ends)

    def __getitem__(self, number: int) -> list[int]:  # type: ignore[override]
        flat, bounds = self._joined()
        return flat[bounds[number] : bounds[number + 1]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        flat, bounds = self._joined()
        for number in range(len(bounds) - 1):
            yield flat[bounds[number] : bounds[number + 1]].tolist()


def terms_of(text: str) -> list[str]:
    """The stemmed, stop-word-free terms of ``text``, as the index sees words.

    Same pattern, stop words and stemmer as ``bm25s.tokenize`` (a test holds them equal), minus
    its per-call vocabulary building: this runs for every sentence of every answer.
    """
    return [stem for _, _, stem in term_spans(text)]


def term_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, stem)`` of each indexed word of ``text``, in order."""
    matches = [m for m in _TOKEN.finditer(text.lower()) if m.group() not in _STOPWORDS]
    stems = _thread_stemmer().stemWords([m.group() for m in matches])
    return [(m.start(), m.end(), stem) for m, stem in zip(matches, stems, strict=True)]


def _thread_stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: PyStemmer objects must not be shared between threads."""
    stemmer: Stemmer.Stemmer | None = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        stemmer = _per_thread.stemmer = Stemmer.Stemmer(_LANGUAGE)
    return stemmer


def _tokenize(texts: list[str], stemmer: Stemmer.Stemmer) -> list[list[str]]:
    tokenized = bm25s.tokenize(
        texts, lower=True, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )
    return [list(doc) for doc in tokenized]
