"""FAISS index choice, IVF recall and retraining on growth, memory-mapped loading."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.analysis.embedder import Embedder
from index.indexing.builder import BuildOptions, build_index
from index.storage.dense import DenseIndex, DenseParams, choose_params, reuse_training


def clustered_vectors(count: int, dimension: int = 32, clusters: int = 40) -> np.ndarray:
    """Unit vectors around random centres, like topics in text embeddings (seeded)."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(clusters, dimension))
    vectors = centres[rng.integers(0, clusters, count)] + 0.6 * rng.normal(size=(count, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def test_ivf_recall_against_exact() -> None:
    vectors = clustered_vectors(20_000)
    queries = clustered_vectors(200)[::-1].copy()
    params = choose_params(len(vectors), exact_limit=1000)
    assert params.kind == "ivf"
    exact = DenseIndex.build(vectors, DenseParams("flat"))
    approximate = DenseIndex.build(vectors, params)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95


def test_memory_mapped_load_gives_the_same_results(tmp_path: Path) -> None:
    vectors = clustered_vectors(3000)
    for params in (DenseParams("flat"), choose_params(3000, exact_limit=100)):
        built = DenseIndex.build(vectors, params)
        built.save(tmp_path / f"{params.kind}.faiss")
        loaded = DenseIndex.load(tmp_path / f"{params.kind}.faiss", params, mmap=True)
        assert loaded.count == 3000
        assert np.array_equal(built.search(vectors[:5], 7)[1], loaded.search(vectors[:5], 7)[1])


def test_retraining_follows_growth() -> None:
    trained = DenseParams("ivf", nlist=64, nprobe=8, trained_on=10_000)
    wanted = choose_params(15_000, exact_limit=1000)
    assert reuse_training(trained, wanted, 15_000) == trained
    assert reuse_training(trained, choose_params(25_000, 1000), 25_000) is None
    assert reuse_training(DenseParams("flat"), wanted, 15_000) is None


def test_incremental_build_keeps_then_retrains_ivf(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir, options = tmp_path / "index", BuildOptions(exact_limit=5)
    first = build_index(seeds, index_dir, embedder, options)
    assert first.dense.kind == "ivf" and first.dense.trained_on == 16

    (seeds / "small.txt").write_text("Harbour news\n\nThe harbour opened. Ships arrived.\n")
    grown = build_index(seeds, index_dir, embedder, options)
    assert grown.dense.trained_on == 16 and grown.retrained is None

    body = " ".join(f"Ship number {i} arrived at the harbour." for i in range(30))
    (seeds / "big.txt").write_text(f"Busy harbour\n\n{body}\n")
    retrained = build_index(seeds, index_dir, embedder, options)
    assert retrained.dense.trained_on == retrained.sentences == 48
    assert retrained.retrained == "IVF retrained: trained on 16 vectors, now 48"


@pytest.mark.parametrize("kind", ["ivf-sq6", "ivf-sq8"])  # sq8: what earlier builds made
def test_a_compressed_index_above_its_limit_reranks_exactly(tmp_path: Path, kind: str) -> None:
    vectors = clustered_vectors(20_000)
    queries = clustered_vectors(200)[::-1].copy()
    assert choose_params(20_000, exact_limit=1000, compress_limit=20_000).kind == "ivf"
    chosen = choose_params(20_000, exact_limit=1000, compress_limit=10_000)
    assert chosen.kind == "ivf-sq6" and chosen.rerank > 1
    params = replace(chosen, kind=kind)
    compressed = DenseIndex.build(vectors, params)
    _, truth = DenseIndex.build(vectors, DenseParams("flat")).search(queries, 10)
    scores, found = compressed.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95
    # Re-ranked against the exact vectors: the scores are the true inner products, best first.
    assert np.allclose(scores, np.einsum("qkd,qd->qk", vectors[found], queries), atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    compressed.save(tmp_path / "compressed.faiss")
    # 6 or 8 bits a dimension and an 8-byte id, against 32 bits a dimension.
    assert (tmp_path / "compressed.faiss").stat().st_size < vectors.nbytes / 3
    loaded = DenseIndex.load(tmp_path / "compressed.faiss", params, exact=vectors)
    assert np.array_equal(loaded.search(queries[:5], 10)[1], found[:5])
