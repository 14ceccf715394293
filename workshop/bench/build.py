"""``newsdesk bench build``: a full build of news articles against a bare float32 ``model.encode``
of the same sentences, in one run, with the vectors' agreement and SQuAD retrieval beside it.

The two are timed side by side in one process, so a busy machine slows both (the ratio is the
figure; the load average is printed with it). The build runs as ``index build`` does: in the
precision the settings choose (``EMBED_PRECISION``), spaCy loaded and tagging beside the
encoder, the question encoder exported and checked, everything written and synced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.runtime import load_build_embedder
from index.analysis.embedder import Embedder
from index.corpus.articles import read_articles
from index.corpus.passages import split_article
from index.errors import NewsdeskError
from index.indexing.builder import BuildReport, build_index
from index.search.searcher import Searcher
from index.storage.metadata import Metadata
from index.storage.store import METADATA_FILE, VECTORS_FILE, open_index
from workshop.bench.measure import peak_memory_mb
from workshop.bench.squad import retrieval_figures
from workshop.bench.squad_data import load_squad, write_seeds

AGREEMENT_SAMPLE = 1000
# bench squad over all 48 SQuAD v1.1 dev articles with float32 vectors (docs/reader.md).
SQUAD_BEFORE = {"R@1": 0.8398, "R@5": 0.9648, "MRR@10": 0.8948}
TARGETS = {"ratio": 0.35, "cosine_mean": 0.999, "cosine_min": 0.995, "squad_drop": 0.005}


def run_build_bench(
    settings: Settings,
    news_dir: Path,
    articles: int,
    squad_path: Path | None,
) -> dict[str, Any]:
    """Time a bare fp32 encode and a full build of the first ``articles`` news stories, compare
    the build's vectors with fp32's, time an incremental build, and (unless ``squad_path`` is
    None) measure SQuAD v1.1 retrieval over an index built the same way."""
    setup = settings.index_setup()
    embedder = load_build_embedder(setup)
    fp32 = embedder.with_precision("fp32")
    options = setup.build
    figures: dict[str, Any] = {"precision": embedder.precision, "load_before": _load()}
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as scratch:
        seeds, index_dir = Path(scratch) / "seeds", Path(scratch) / "index"
        _copy_articles(news_dir, seeds, articles)
        texts = [
            sentence.text
            for article in read_articles(seeds).articles
            for sentence in split_article(article, options.chunking).sentences
        ]
        for warm in (fp32, embedder):  # first calls allocate and pick kernels
            warm.embed(texts[:256], batch_size=options.batch_size)

        started = time.perf_counter()
        bare = fp32.model.encode(texts, batch_size=options.batch_size, convert_to_numpy=True)
        encode_seconds = time.perf_counter() - started
        full = build_index(seeds, index_dir, embedder, options)
        figures.update(_speed(full, encode_seconds, len(texts)))
        one_thread = _one_thread_encode(fp32, texts, options.batch_size)
        figures["bare_fp32_one_thread_seconds"] = round(one_thread, 2)
        figures["build_to_one_thread_ratio"] = round(full.seconds / one_thread, 3)
        figures.update(_agreement(full, dict(zip(texts, bare, strict=True))))

        changed = sorted(seeds.iterdir())[0]
        changed.write_text(changed.read_text(encoding="utf-8") + "\nChanged for the bench.\n")
        incremental = build_index(seeds, index_dir, embedder, options)
        figures["incremental_build_seconds"] = round(incremental.seconds, 2)
        figures["incremental_embedded"] = incremental.embedded
        figures["load_after"] = _load()
        if squad_path is not None:
            figures.update(_squad(settings, embedder, squad_path, Path(scratch) / "squad"))
    figures["peak_memory_mb"] = round(peak_memory_mb(), 1)
    return figures


def _one_thread_encode(fp32: Embedder, texts: list[str], batch_size: int) -> float:
    """Seconds of a bare fp32 ``model.encode`` with torch on one thread: the baseline that a
    busy machine does not distort (on two threads, each operation waits for a thread another
    process has descheduled)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.perf_counter()
        fp32.model.encode(texts, batch_size=batch_size, convert_to_numpy=True)
        return time.perf_counter() - started
    finally:
        torch.set_num_threads(threads)


def _copy_articles(news_dir: Path, seeds: Path, count: int) -> None:
    """The first ``count`` stories by name (copied: the build follows no link out of seeds)."""
    files = sorted(path for path in news_dir.iterdir() if path.is_file())[:count]
    if not files:
        raise NewsdeskError(f"no news articles in {news_dir}")
    seeds.mkdir(parents=True)
    for path in files:
        shutil.copy(path, seeds / path.name)


def _speed(full: BuildReport, encode_seconds: float, encoded: int) -> dict[str, Any]:
    per_encoded = encode_seconds / encoded
    return {
        "articles": len(full.added),
        "sentences": full.sentences,
        "bare_fp32_encode_seconds": round(encode_seconds, 2),
        "full_build_seconds": round(full.seconds, 2),
        "tag_seconds": round(full.tag_seconds, 2),
        "sentences_per_second": round(full.sentences / full.seconds, 1),
        "build_to_fp32_encode_ratio": round(full.seconds / full.sentences / per_encoded, 3),
    }


def _agreement(full: BuildReport, fp32_of: dict[str, np.ndarray]) -> dict[str, Any]:
    """Cosines of a seeded sample of the build's stored vectors to fp32's of the same text."""
    if full.folder is None:
        raise NewsdeskError("the build reported no folder")
    stored = np.load(full.folder / VECTORS_FILE, mmap_mode="r")
    metadata = Metadata(full.folder / METADATA_FILE)
    try:
        size = min(AGREEMENT_SAMPLE, full.sentences)
        rows = sorted(np.random.default_rng(0).choice(full.sentences, size, replace=False))
        texts = [metadata.sentence(int(row)).text for row in rows]
    finally:
        metadata.close()
    reference = np.vstack([fp32_of[text] for text in texts]).astype(np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    cosines = np.sum(np.asarray(stored[rows], dtype=np.float32) * reference, axis=1)
    return {
        "agreement_sample": size,
        "cosine_mean": round(float(cosines.mean()), 6),
        "cosine_min": round(float(cosines.min()), 6),
    }


def _squad(
    settings: Settings, embedder: Embedder, squad_path: Path, folder: Path
) -> dict[str, Any]:
    """R@1/R@5/MRR@10 of SQuAD v1.1 dev over an index built by ``embedder``."""
    setup = settings.index_setup()
    squad = load_squad(squad_path)
    write_seeds(squad, folder / "seeds")
    report = build_index(folder / "seeds", folder / "index", embedder, replace(setup.build))
    store = open_index(
        folder / "index",
        model_name=embedder.info.name,
        chunking=setup.chunking,
        model=embedder.info,
    )
    try:
        searcher = Searcher(store)
        searcher.search("warm-up question")
        started = time.perf_counter()
        measured = retrieval_figures(searcher, squad.questions)
    finally:
        store.close()
    return {
        "squad_questions": len(squad.questions),
        "squad_sentences": report.sentences,
        "squad_build_seconds": round(report.seconds, 2),
        "squad_search_seconds": round(time.perf_counter() - started, 1),
        **{f"squad_{name}": value for name, value in measured.items()},
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def format_build_bench(figures: dict[str, Any]) -> str:
    """The figures beside their targets, then the JSON."""
    ratio = figures["build_to_fp32_encode_ratio"]
    lines = [
        f"News: {figures['articles']} articles, {figures['sentences']} sentences; build in "
        f"{figures['precision']} (load average {figures['load_before']} before, "
        f"{figures['load_after']} after; 2 cores)",
        f"bare fp32 model.encode   {figures['bare_fp32_encode_seconds']:8.2f} s (torch's threads; "
        f"on one thread {figures['bare_fp32_one_thread_seconds']:.2f} s)",
        f"full build               {figures['full_build_seconds']:8.2f} s "
        f"({figures['sentences_per_second']} sentences/s; tagging beside the encoder "
        f"{figures['tag_seconds']:.2f} s)",
        f"  per sentence, build / fp32 encode   {ratio:.3f}  target <= {TARGETS['ratio']}: "
        f"{_verdict(ratio <= TARGETS['ratio'])}",
        f"  against fp32 on one thread          {figures['build_to_one_thread_ratio']:.3f}",
        f"vectors against fp32 on {figures['agreement_sample']} sentences: cosine mean "
        f"{figures['cosine_mean']:.6f} (>= {TARGETS['cosine_mean']}: "
        f"{_verdict(figures['cosine_mean'] >= TARGETS['cosine_mean'])}), min "
        f"{figures['cosine_min']:.6f} (>= {TARGETS['cosine_min']}: "
        f"{_verdict(figures['cosine_min'] >= TARGETS['cosine_min'])})",
        f"incremental build        {figures['incremental_build_seconds']:8.2f} s "
        f"(one article changed, {figures['incremental_embedded']} sentences embedded)",
    ]
    if "squad_R@1" in figures:
        lines.append(
            f"SQuAD v1.1 dev, {figures['squad_questions']} questions over "
            f"{figures['squad_sentences']} sentences (built in {figures['squad_build_seconds']} "
            f"s, searched in {figures['squad_search_seconds']} s):"
        )
        for name, before in SQUAD_BEFORE.items():
            now = figures[f"squad_{name}"]
            ok = now >= before - TARGETS["squad_drop"]
            lines.append(
                f"  {name:<7}{now:.4f}  fp32 before {before:.4f}  "
                f"(no lower by more than {TARGETS['squad_drop']}: {_verdict(ok)})"
            )
    lines += [f"peak memory {figures['peak_memory_mb']:.1f} MB", json.dumps(figures)]
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "met" if met else "missed"
