"""``newsdesk bench scale``: the index at 100k to millions of sentences, on one machine.

The corpus is synthetic but goes through the real build: generated articles (Zipf-distributed
words, so BM25 sees a realistic vocabulary) are written as JSON Lines seeds and built by
``build_index``; only the embedder is replaced by a seeded generator of clustered unit vectors,
because encoding a million sentences on two CPU cores would take hours. Searches exclude the
query encoding.
"""

from __future__ import annotations

import hashlib
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from index.analysis.embedder import EMBED_BATCH, Embedder, ModelInfo
from index.analysis.entities import Entity, EntityTagger, TaggerInfo
from index.corpus.passages import ChunkingSettings
from index.indexing.builder import BuildOptions, build_index
from index.indexing.update import SentenceEncoder, update_tail
from index.search.searcher import Searcher
from index.storage.dense import (
    COMPRESSED_KIND,
    DEFAULT_COMPRESS_LIMIT,
    DEFAULT_EXACT_LIMIT,
    STORED_DTYPE,
    DenseIndex,
    DenseParams,
    as_stored,
    choose_params,
)
from index.storage.milvus_dense import MilvusAddress, engine_index
from index.storage.store import open_index
from workshop.bench.measure import ms, peak_memory_since_reset_mb, percentile, reset_peak_memory
from workshop.bench.scale_report import format_backend_ratios as format_backend_ratios
from workshop.bench.scale_report import format_dense_bench as format_dense_bench
from workshop.bench.scale_report import format_scale_bench as format_scale_bench
from workshop.milvus_server import milvus_server

DIMENSION = 384
TOPICS = 200  # broad subjects...
SUBTOPICS = 50  # ...each split into stories: neighbours spread over several IVF lists
CLUSTERS = TOPICS * SUBTOPICS
SENTENCES_PER_PARAGRAPH = 5
PARAGRAPHS_PER_ARTICLE = 10
VOCABULARY = 50_000
QUERIES = 1000  # for recall@10 against exact search
TIMED = 300  # single questions timed for each of dense, BM25 and hybrid
EMBED_BLOCK = 65_536


class ClusteredEmbedder(Embedder):
    """Unit vectors around seeded centres; a sentence's vector depends on its text only.

    The centres are either generated (topics split into stories) or real sentence encodings
    (``base``, e.g. the SQuAD index's ``vectors.npy``), which keeps the neighbourhood structure
    of real text: the harder and more honest test of IVF recall.
    """

    def __init__(self, base: np.ndarray | None = None) -> None:
        info = ModelInfo("synthetic-clustered", DIMENSION, "synthetic", 256)
        super().__init__(model=None, info=info)  # type: ignore[arg-type]
        rng = np.random.default_rng(0)
        if base is not None:
            self.centres = np.asarray(base, dtype=np.float64)
            # ~0.03 per dimension puts a copy at cosine ~0.85 from its real sentence.
            self.noise = 0.03
        else:
            topics = rng.normal(size=(TOPICS, DIMENSION))
            self.centres = np.repeat(topics, SUBTOPICS, axis=0) + 0.8 * rng.normal(
                size=(CLUSTERS, DIMENSION)
            )
            self.noise = 0.9

    def embed(
        self,
        texts: list[str],
        *,
        batch_size: int = EMBED_BATCH,
        on_step: Callable[[int], None] | None = None,
        pool: Executor | None = None,
    ) -> np.ndarray:
        # In float32 blocks: one float64 pass over millions of rows would take three times
        # the memory of the index being measured.
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        rng = np.random.default_rng(len(texts))
        for start in range(0, len(texts), EMBED_BLOCK):
            block = texts[start : start + EMBED_BLOCK]
            seeds = [
                int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest()) for t in block
            ]
            clusters = np.array([seed % len(self.centres) for seed in seeds], dtype=np.int64)
            noise = rng.normal(size=(len(block), DIMENSION))
            vectors[start : start + len(block)] = _unit(self.centres[clusters] + self.noise * noise)
        return vectors

    def queries(self, count: int) -> np.ndarray:
        rng = np.random.default_rng(42)
        vectors = self.centres[rng.integers(0, len(self.centres), count)]
        return _unit(vectors + self.noise * rng.normal(size=vectors.shape))


class NoEntityTagger(EntityTagger):
    """Tags nothing: the synthetic words ("w17 w3052") name no one, and spaCy would spend
    twenty minutes a million sentences finding so (``--tag-entities`` measures it anyway)."""

    @property
    def info(self) -> TaggerInfo:
        return TaggerInfo("none", "0")

    def tag(self, texts: Iterable[str], *, batch_size: int = 256) -> Iterator[tuple[Entity, ...]]:
        for _ in texts:
            yield ()


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def write_synthetic_seeds(folder: Path, sentences: int) -> None:
    """Articles of 10 paragraphs of 5 sentences, words drawn from a Zipf law, in JSONL files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    words = np.array([f"w{number}" for number in range(VOCABULARY)])
    per_article = SENTENCES_PER_PARAGRAPH * PARAGRAPHS_PER_ARTICLE
    articles = max(1, sentences // per_article)
    lengths = rng.integers(8, 20, size=articles * per_article)
    picks = (rng.zipf(1.3, size=int(lengths.sum())) - 1) % VOCABULARY
    position = sentence = 0
    lines: list[str] = []
    for article in range(articles):
        paragraphs = []
        for _ in range(PARAGRAPHS_PER_ARTICLE):
            texts = []
            for _ in range(SENTENCES_PER_PARAGRAPH):
                length = int(lengths[sentence])
                texts.append(
                    " ".join(words[picks[position : position + length]]).capitalize() + "."
                )
                position += length
                sentence += 1
            paragraphs.append(" ".join(texts))
        lines.append(json.dumps({"title": f"Story {article}", "text": "\n\n".join(paragraphs)}))
        if len(lines) == 1000 or article == articles - 1:
            (folder / f"part-{article // 1000:05d}.jsonl").write_text("\n".join(lines) + "\n")
            lines = []


def named_engine() -> MilvusAddress | None:
    """The engine MILVUS_URI names (MILVUS_TOKEN its credentials), read as every command reads
    them; None when it is unset, and the bench starts a server of its own."""
    settings = Settings(vector_backend="milvus")
    return settings.milvus_address() if settings.milvus_uri else None


def _timed(calls: list[Any]) -> list[float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def run_scale_bench(
    count: int,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    base: Path | None = None,
    compress_limit: int = DEFAULT_COMPRESS_LIMIT,
    tag_entities: bool = False,
    backend: str = "faiss",
    queries: int = QUERIES,
    timed: int = TIMED,
) -> dict[str, Any]:
    """Build, load and search an index of ``count`` synthetic sentences.

    ``tag_entities`` runs spaCy over the synthetic sentences; by default they go untagged.
    ``backend`` "milvus" keeps the vectors in the Milvus engine that MILVUS_URI (and
    MILVUS_TOKEN) name, a server or a cluster, or else in a Milvus 2.3 standalone server started
    for the run (a process apart, on loopback, as a cluster's would be). ``queries`` are scored
    for recall and ``timed`` of them timed.
    """
    centres = np.load(base, mmap_mode="r", allow_pickle=False) if base is not None else None
    embedder = ClusteredEmbedder(centres)
    chunking = ChunkingSettings()
    with tempfile.TemporaryDirectory(prefix="newsdesk-scale-") as scratch, ExitStack() as stack:
        seeds, index_dir = Path(scratch) / "seeds", Path(scratch) / "index"
        write_synthetic_seeds(seeds, count)
        named = named_engine() if backend == "milvus" else None
        server = (
            stack.enter_context(milvus_server(Path(scratch) / "milvus"))
            if backend == "milvus" and named is None
            else None
        )
        milvus = named or (server.address if server is not None else None)
        options = BuildOptions(
            chunking=chunking,
            exact_limit=exact_limit,
            compress_limit=compress_limit,
            milvus=milvus,
        )
        measured_peak = reset_peak_memory()
        if server is not None:
            server.reset_peak()
        tagger = EntityTagger() if tag_entities else NoEntityTagger()
        report = build_index(seeds, index_dir, embedder, options, tagger=tagger)
        build_peak = peak_memory_since_reset_mb() if measured_peak else float("nan")
        engine_build_peak = server.peak_mb() if server is not None else float("nan")
        folder = report.folder
        assert folder is not None
        disk = _bytes_under(folder) + _bytes_under(Path(scratch) / "milvus")

        rss_before = _rss_mb()
        started = time.perf_counter()
        store = open_index(
            index_dir,
            model_name=embedder.info.name,
            chunking=chunking,
            model=embedder.info,
            milvus=milvus,
        )
        load_seconds = time.perf_counter() - started
        rss_after = _rss_mb()
        engine_mb = server.resident_mb() if server is not None else 0.0

        searcher = Searcher(store, embedder)
        asked = embedder.queries(queries)
        dense = _timed([lambda q=q: store.dense.search(q[None], 10) for q in asked[:timed]])
        words = [f"w{i} w{i * 7 % 500} w{i % 50}" for i in range(timed)]
        lexical = _timed([lambda w=w: store.lexical.scores(w) for w in words])
        hybrid = _timed(
            [
                lambda w=w, q=q: searcher.search_vector(w, q[None], 10)
                for w, q in zip(words, asked, strict=False)
            ]
        )
        assert isinstance(store.vectors, np.ndarray)  # a full build: no tail
        truth = exact_top_k(store.vectors, asked, 10)
        _, found = store.dense.search(asked, 10)
        recall = float(
            np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
        )
        store.close()
        added = _add_one_article(seeds, index_dir, embedder, options, tagger) if not milvus else {}
    return {
        **added,
        "sentences": report.sentences,
        "passages": report.passages,
        "build_seconds": round(report.seconds, 1),
        "build_peak_mb": round(build_peak, 1),
        "engine_build_peak_mb": round(engine_build_peak, 1),
        "engine": (engine_index(report.dense).label if report.dense.kind == "milvus" else "FAISS")
        + (f" on {milvus.shown}" if named is not None and milvus is not None else ""),
        "index": report.dense.to_dict(),
        "disk_bytes_per_sentence": round(disk / report.sentences, 1),
        "load_seconds": round(load_seconds, 3),
        "rss_after_load_mb": round(rss_after, 1),
        "rss_added_by_load_mb": round(rss_after - rss_before, 1),
        "engine_rss_mb": round(engine_mb, 1),
        "dense_p50_ms": ms(statistics.median(dense)),
        "dense_p95_ms": ms(percentile(dense, 95)),
        "bm25_p50_ms": ms(statistics.median(lexical)),
        "bm25_p95_ms": ms(percentile(lexical, 95)),
        "hybrid_p50_ms": ms(statistics.median(hybrid)),
        "hybrid_p95_ms": ms(percentile(hybrid, 95)),
        "dense_recall@10": round(recall, 4),
        "vectors": f"real encodings from {base} with noise" if base else "generated clusters",
        "tagger": tagger.info.pipeline,
        "backend": backend,
        "queries": {"recall": queries, "timed": timed},
    }


def _add_one_article(
    seeds: Path, index_dir: Path, embedder: ClusteredEmbedder, options: BuildOptions, tagger: Any
) -> dict[str, Any]:
    """One new article of 50 sentences into the built index, through its tail: the seconds
    from the update's start to the new index loaded, and whether its sentences are found."""
    write_synthetic_seeds(seeds / "new", PARAGRAPHS_PER_ARTICLE * SENTENCES_PER_PARAGRAPH)
    started = time.perf_counter()
    report = update_tail(
        seeds,
        index_dir,
        options,
        tagger,
        lambda folder, manifest: SentenceEncoder(embedder.embed, "model"),
        embedder.info.name,
        embedder.info.fingerprint,
    )
    updated = time.perf_counter() - started
    store = open_index(
        index_dir, model_name=embedder.info.name, chunking=options.chunking, model=embedder.info
    )
    searchable = time.perf_counter() - started
    tail = store.manifest.tail
    found = False
    if tail is not None:
        new_rows = np.asarray(store.vectors[[tail.id_sentences - 1]])
        _, ids = store.dense.search(new_rows, 1)
        found = int(ids[0][0]) == tail.id_sentences - 1
    store.close()
    return {
        "add_one_article_seconds": round(updated, 2),
        "add_one_article_searchable_seconds": round(searchable, 2),
        "add_one_article_through": "tail" if report is not None and tail is not None else "full",
        "add_one_article_found": found,
    }


def measure_build_peak(count: int) -> dict[str, float]:
    """The build's resident peak over ``count`` synthetic sentences (embedder and tagger as in
    ``run_scale_bench``), measured from just before the build; for the memory test."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-peak-") as scratch:
        seeds, index_dir = Path(scratch) / "seeds", Path(scratch) / "index"
        write_synthetic_seeds(seeds, count)
        embedder = ClusteredEmbedder()
        before = _rss_mb()
        if not reset_peak_memory():
            return {"sentences": count, "peak_mb": float("nan"), "before_mb": before}
        report = build_index(seeds, index_dir, embedder, BuildOptions(), tagger=NoEntityTagger())
        peak = peak_memory_since_reset_mb()
    return {"sentences": report.sentences, "peak_mb": round(peak, 1), "before_mb": round(before, 1)}


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The ids of each query's ``k`` best rows by inner product, scanning ``vectors`` (the
    memory-mapped float16 copy) a block at a time: at 10M a float32 copy would not fit."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), EMBED_BLOCK):
        block = np.asarray(vectors[start : start + EMBED_BLOCK], dtype=np.float32)
        scores = np.concatenate([best_scores, queries @ block.T], axis=1)
        rows = np.broadcast_to(np.arange(start, start + len(block)), (len(queries), len(block)))
        ids = np.concatenate([best_ids, rows], axis=1)
        keep = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_scores = np.take_along_axis(scores, keep, 1)
        best_ids = np.take_along_axis(ids, keep, 1)
    return best_ids


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _rss_mb() -> float:
    """Current resident memory (Linux /proc), not the peak."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_dense_bench(count: int, base: Path | None = None) -> dict[str, Any]:
    """The dense index alone at ``count`` vectors: IVF-Flat beside IVF-SQ6 with re-ranking.

    No seeds, SQLite or entity tagging (spaCy over a million synthetic sentences takes longer
    than everything else): the same synthetic vectors as ``run_scale_bench``, both index kinds
    built from them, searched with the same queries and compared with exact search.
    """
    centres = np.load(base, mmap_mode="r", allow_pickle=False) if base is not None else None
    embedder = ClusteredEmbedder(centres)
    vectors = as_stored(embedder.embed([f"s{i}" for i in range(count)]))
    exact_vectors = vectors.astype(STORED_DTYPE)  # what a build keeps on disk
    queries = embedder.queries(QUERIES)
    _, truth = DenseIndex.build(vectors, DenseParams("flat")).search(queries, 10)
    kinds: dict[str, Any] = {}
    for name, limit in (("ivf", count), (COMPRESSED_KIND, 0)):
        params = choose_params(count, exact_limit=0, compress_limit=limit)
        started = time.perf_counter()
        built = DenseIndex.build(vectors, params)
        build_seconds = time.perf_counter() - started
        with tempfile.TemporaryDirectory(prefix="newsdesk-dense-") as scratch:
            path = Path(scratch) / "sentences.faiss"
            built.save(path)
            size = path.stat().st_size
            del built
            dense = DenseIndex.load(path, params, exact=exact_vectors)
            times = _timed([lambda q=q, d=dense: d.search(q[None], 10) for q in queries[:300]])
            _, found = dense.search(queries, 10)
        recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
        kinds[name] = {
            "params": params.to_dict(),
            "build_seconds": round(build_seconds, 1),
            "faiss_bytes_per_vector": round(size / count, 1),
            "bytes_per_sentence_with_vectors": round((size + exact_vectors.nbytes) / count, 1),
            "p50_ms": ms(statistics.median(times)),
            "p95_ms": ms(percentile(times, 95)),
            "recall@10": round(float(recall), 4),
        }
    return {"vectors": count, "kinds": kinds}
