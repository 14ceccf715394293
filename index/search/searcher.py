"""Hybrid search: dense sentence vectors (FAISS) and BM25 passages, fused into one ranking.

A passage is scored by its best sentence's similarity to the question (not a whole-paragraph
vector) plus its BM25 score scaled by the best BM25 score for the question. The weights were
tuned on SQuAD v1.1 dev articles 0-23 only (``newsdesk bench squad --articles 0:24``) and are
reported on all 48.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from index.errors import IndexMismatchError, Remedy
from index.storage.metadata import PassageRecord, SentenceRecord
from index.storage.store import IndexStore


@dataclass(frozen=True)
class FusionWeights:
    """How much each signal counts in a passage's fused score."""

    best_sentence: float = 1.0
    bm25: float = 0.5
    dense_candidates: int = 64  # sentences FAISS returns
    lexical_candidates: int = 32  # passages BM25 adds


@dataclass(frozen=True)
class ScoredSentence:
    record: SentenceRecord
    similarity: float


@dataclass(frozen=True)
class Hit:
    """A ranked passage, its sentences scored against the question, best first."""

    passage: PassageRecord
    sentences: tuple[ScoredSentence, ...]
    score: float
    best_similarity: float
    bm25: float  # raw BM25 score of the passage
    bm25_share: float  # BM25 over the best BM25 score for this question, 0..1

    @property
    def best(self) -> ScoredSentence:
        return self.sentences[0]


@dataclass(frozen=True)
class SearchResult:
    """Hits plus what the question looked like to the lexical side (for abstention)."""

    question: str
    hits: list[Hit]
    terms: list[str]  # stemmed content terms of the question the index knows
    unknown_terms: list[str]  # content terms the index has never seen
    term_weights: dict[str, float]  # idf of each known term
    # The sentences just before and after each hit's passage in its article, by id: a news
    # paragraph is often one sentence, and an answer leans on the one before ("he", "there").
    around: dict[int, ScoredSentence] = field(default_factory=dict)


class QueryEmbedder(Protocol):
    """Anything that encodes one question as a ``(1, dimension)`` unit row."""

    def embed_query(self, text: str) -> np.ndarray: ...


class Searcher:
    """Answers ``search(question)`` over one loaded index.

    Questions are encoded by ``embedder`` when given (an ``Embedder`` holding the model), else
    by the index's own ONNX question encoder: the front ends' way, with no torch.
    """

    def __init__(
        self,
        store: IndexStore,
        embedder: QueryEmbedder | None = None,
        weights: FusionWeights | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder if embedder is not None else store.query_encoder
        self.weights = weights or FusionWeights()
        self._idf = _idf_by_term(store)

    def search(self, question: str, k: int = 10) -> SearchResult:
        """The top ``k`` passages for ``question``, each with its sentences ranked.

        Raises ``IndexMismatchError`` when nothing can encode it (an index from before the
        question encoder, searched without a model).
        """
        if self.embedder is None:
            raise IndexMismatchError(
                f"the index in {self.store.folder} has no question encoder (built by an older "
                "Newsdesk)",
                remedy=Remedy.UPDATE,
            )
        query = self.embedder.embed_query(question)
        return self.search_vector(question, query, k)

    def search_vector(self, question: str, query: np.ndarray, k: int = 10) -> SearchResult:
        """Like ``search`` with the question already encoded (one row, unit length)."""
        store, weights = self.store, self.weights
        all_terms = self.store.lexical.all_terms(question)
        terms = [term for term in all_terms if term in self._idf]
        unknown = [term for term in all_terms if term not in self._idf]
        if store.sentence_count == 0:
            return SearchResult(question, [], terms, unknown, {})
        _, sentence_ids = store.dense.search(query, weights.dense_candidates)
        candidates = set(store.sentence_passages[sentence_ids[0]].tolist())
        bm25 = store.lexical.scores_for_terms(terms)
        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        if top_bm25 > 0:
            take = min(weights.lexical_candidates, len(bm25))
            candidates.update(np.argpartition(-bm25, take - 1)[:take].tolist())
        candidates -= store.removed_passages  # a tail build's holes (empty otherwise)
        if not candidates:
            return SearchResult(question, [], terms, unknown, {})
        passages = np.fromiter(sorted(candidates), dtype=np.int64)
        hits = self._rank(passages, query[0], bm25, top_bm25, k)
        return SearchResult(
            question,
            hits,
            terms,
            unknown,
            {term: self._idf[term] for term in terms},
            self._around(hits, query[0]),
        )

    def _around(self, hits: list[Hit], query: np.ndarray) -> dict[int, ScoredSentence]:
        """The two sentences before each hit's passage and the one after, in the same article."""
        inside = {s.record.id for hit in hits for s in hit.sentences}
        wanted: dict[int, str] = {}
        for hit in hits:
            first = hit.passage.first_sentence
            for key in (first - 2, first - 1, first + hit.passage.sentence_count):
                if key not in inside:
                    wanted.setdefault(key, hit.passage.article.key)
        records = self.store.metadata.sentences(wanted)
        kept = [r for key, r in records.items() if r.article.key == wanted[key]]
        if not kept:
            return {}
        similarities = self.store.vectors[[r.id for r in kept]] @ query
        return {
            r.id: ScoredSentence(r, float(sim)) for r, sim in zip(kept, similarities, strict=True)
        }

    def _rank(
        self, passages: np.ndarray, query: np.ndarray, bm25: np.ndarray, top_bm25: float, k: int
    ) -> list[Hit]:
        """Score every sentence of the candidate passages in one gather and one product."""
        bounds = self.store.passage_sentences[passages]
        firsts, counts = bounds[:, 0].astype(np.int64), bounds[:, 1].astype(np.int64)
        segments = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sentence_ids = np.repeat(firsts - segments, counts) + np.arange(int(counts.sum()))
        similarities = self.store.vectors[sentence_ids] @ query
        best = np.maximum.reduceat(similarities, segments)
        shares = bm25[passages] / top_bm25 if top_bm25 > 0 else np.zeros(len(passages))
        scores = self.weights.best_sentence * best + self.weights.bm25 * shares
        top = np.argsort(-scores, kind="stable")[:k]
        records = self.store.metadata.passages_with_sentences([int(passages[i]) for i in top])
        hits = []
        for i in top:
            passage, sentences = records[int(passages[i])]
            own = similarities[segments[i] : segments[i] + counts[i]]
            ranked = sorted(
                (ScoredSentence(s, float(sim)) for s, sim in zip(sentences, own, strict=True)),
                key=lambda item: item.similarity,
                reverse=True,
            )
            hits.append(
                Hit(
                    passage,
                    tuple(ranked),
                    float(scores[i]),
                    ranked[0].similarity,
                    float(bm25[passages[i]]),
                    float(shares[i]),
                )
            )
        return hits


def _idf_by_term(store: IndexStore) -> dict[str, float]:
    """Inverse document frequency of every indexed term (Lucene's form, always positive)."""
    total = max(store.lexical.counted_passages, 1)  # as many as the frequencies count in
    frequencies = store.lexical.document_frequencies()
    return {
        term: math.log(1 + (total - df + 0.5) / (df + 0.5))
        for term, df in frequencies.items()
        if term
    }
