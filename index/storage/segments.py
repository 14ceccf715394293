"""An index in two parts: the last full build's files, and a small tail of articles added since.

Rewriting a whole index for one new article cost time in proportion to the index (34 s on
1,848 articles); Lucene and Milvus instead keep new documents in a small segment beside the big
ones, search both, and merge them later. Here the tail is the articles added or changed since
the last full build: their sentences and passages take ids after the full build's, their vectors
sit in ``tail_vectors.npy``, their BM25 is made in memory when the index loads (a few thousand
passages at most: milliseconds), and the sentences and passages of removed or changed articles
are holes, skipped by every search. The metadata (``meta.sqlite``) and the id maps are whole
files, copied and amended by each update. A full build, run when the tail grows past a share
of the index, folds it back in.

The classes here stand in for the full build's parts with the same methods, so the searcher
and the answer code read a tailed index as any other.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from index.storage.dense import DenseIndex
from index.storage.lexical import BM25_B, BM25_K1, LexicalIndex, terms_of

TAIL_VECTORS_FILE = "tail_vectors.npy"
REMOVED_SENTENCES_FILE = "removed_sentences.npy"
REMOVED_PASSAGES_FILE = "removed_passages.npy"
TAIL_FILES = (TAIL_VECTORS_FILE, REMOVED_SENTENCES_FILE, REMOVED_PASSAGES_FILE)


class JoinedRows:
    """Rows ``0 .. len(base)-1`` from ``base``, the rest from ``tail``: indexed like one array."""

    def __init__(self, base: np.ndarray, tail: np.ndarray) -> None:
        self.base = base
        self.tail = tail
        self.shape = (len(base) + len(tail), base.shape[1])
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        if isinstance(rows, slice):
            wanted = np.arange(*rows.indices(len(self)))
        else:
            wanted = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        out = np.empty((len(wanted), self.shape[1]), dtype=np.float32)
        in_base = wanted < len(self.base)
        if in_base.any():
            out[in_base] = self.base[wanted[in_base]]
        if not in_base.all():
            out[~in_base] = self.tail[wanted[~in_base] - len(self.base)]
        return out[0] if isinstance(rows, int | np.integer) else out


class TailDense:
    """The full build's FAISS index and the tail's vectors, searched as one; holes skipped."""

    def __init__(self, base: DenseIndex, tail: np.ndarray, removed: np.ndarray) -> None:
        self.base = base
        self.tail = np.ascontiguousarray(tail, dtype=np.float32)
        self.removed = removed  # sorted sentence ids, in the base or the tail
        self.params = base.params

    @property
    def count(self) -> int:
        return self.base.count + len(self.tail)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row across both parts, holes left out."""
        # Holes may fill the base's top k: ask for as many more as there are holes.
        base_scores, base_ids = self.base.search(queries, k + len(self.removed))
        tail_scores = queries.astype(np.float32) @ self.tail.T
        tail_ids = np.broadcast_to(
            np.arange(self.base.count, self.count, dtype=np.int64), tail_scores.shape
        )
        scores = np.concatenate([base_scores, tail_scores], axis=1)
        ids = np.concatenate([base_ids, tail_ids], axis=1)
        scores = np.where(np.isin(ids, self.removed), -np.inf, scores)
        keep = min(k, int((scores[0] > -np.inf).sum()) if len(scores) else 0)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :keep]
        return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)


class TailLexical:
    """BM25 over the full build's passages (bm25s, as saved) and the tail's (scored here).

    The tail's passages are scored with the same k1 and b, and with each term's document
    frequency over both parts, so a new article's passages rank as they would after a full
    build (up to the base's own frequencies, which leave the tail out until then).
    """

    def __init__(
        self,
        base: LexicalIndex,
        tail_texts: Sequence[str],
        removed: np.ndarray,
        base_passages: int,
    ) -> None:
        self.base = base
        self.base_passages = base_passages
        self.removed_passages = removed
        self.removed_in_base = removed[removed < base_passages]
        self.removed_in_tail = removed[removed >= base_passages] - base_passages
        self._tail_terms = [Counter(terms_of(text)) for text in tail_texts]
        self._tail_lengths = np.asarray(
            [sum(terms.values()) for terms in self._tail_terms], dtype=np.float32
        )
        live = np.ones(len(self._tail_terms), dtype=bool)
        live[self.removed_in_tail] = False
        self._tail_live = live
        self._base_frequencies = base.document_frequencies()
        tail_frequencies: Counter[str] = Counter()
        for terms, alive in zip(self._tail_terms, live, strict=True):
            if alive:
                tail_frequencies.update(terms.keys())
        self._tail_frequencies = tail_frequencies
        self.count = base_passages + len(self._tail_terms)

    @property
    def counted_passages(self) -> int:
        """The passages ``document_frequencies`` counts in: the full build's all (its removed
        ones too: bm25s's frequencies keep them) and the tail's live ones."""
        return self.base_passages + int(self._tail_live.sum())

    def all_terms(self, text: str) -> list[str]:
        return terms_of(text)

    def document_frequencies(self) -> dict[str, int]:
        merged = dict(self._base_frequencies)
        for term, count in self._tail_frequencies.items():
            merged[term] = merged.get(term, 0) + count
        return merged

    def scores(self, text: str) -> np.ndarray:
        return self.scores_for_terms(self.all_terms(text))

    def scores_for_terms(self, terms: list[str]) -> np.ndarray:
        """BM25 of every passage, base then tail; holes score 0."""
        base = self.base.scores_for_terms(terms)
        base[self.removed_in_base] = 0.0
        return np.concatenate([base, self._tail_scores(terms)])

    def _tail_scores(self, terms: list[str]) -> np.ndarray:
        scores = np.zeros(len(self._tail_terms), dtype=np.float32)
        if not len(scores):
            return scores
        total = self.base_passages + int(self._tail_live.sum())
        lengths = self._tail_lengths
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(float(lengths.mean()), 1.0))
        for term in dict.fromkeys(terms):
            frequency = self._base_frequencies.get(term, 0) + self._tail_frequencies.get(term, 0)
            if frequency == 0:
                continue
            idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
            counts = np.asarray([found[term] for found in self._tail_terms], dtype=np.float32)
            scores += idf * counts / (counts + norm)
        scores[~self._tail_live] = 0.0
        return scores
