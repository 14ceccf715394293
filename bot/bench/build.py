"""``newsdesk bench build``: index build speed against a bare ``model.encode`` of the same text."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bot.bench.measure import peak_memory_mb
from bot.bench.squad_data import load_squad, write_seeds
from bot.config import Settings
from bot.runtime import load_build_embedder
from index.build.builder import build_index
from index.corpus.articles import read_articles
from index.corpus.passages import split_article


def run_build_bench(settings: Settings, squad_path: Path) -> dict[str, float]:
    """Full build, bare encode, and an incremental build after changing one article."""
    embedder = load_build_embedder(settings.index_setup())
    options = settings.index_setup().build
    squad = load_squad(squad_path)
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as scratch:
        seeds, index_dir = Path(scratch) / "seeds", Path(scratch) / "index"
        write_seeds(squad, seeds)
        texts = [
            sentence.text
            for article in read_articles(seeds).articles
            for sentence in split_article(article, options.chunking).sentences
        ]
        embedder.embed(texts[:256], batch_size=options.batch_size)  # warm the model up

        started = time.perf_counter()
        embedder.embed(texts, batch_size=options.batch_size)
        encode_seconds = time.perf_counter() - started

        full = build_index(seeds, index_dir, embedder, options)

        changed = sorted(seeds.iterdir())[0]
        changed.write_text(changed.read_text().replace('"}', ' Changed for the benchmark."}', 1))
        incremental = build_index(seeds, index_dir, embedder, options)
    return {
        "sentences": full.sentences,
        "passages": full.passages,
        "bare_encode_seconds": round(encode_seconds, 2),
        "full_build_seconds": round(full.seconds, 2),
        "sentences_per_second": round(full.sentences / full.seconds, 1),
        "build_to_encode_ratio": round(full.seconds / encode_seconds, 3),
        "tag_seconds": round(full.tag_seconds, 2),
        "incremental_build_seconds": round(incremental.seconds, 2),
        "incremental_embedded": incremental.embedded,
        "incremental_to_full_ratio": round(incremental.seconds / full.seconds, 4),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }


def format_build_bench(figures: dict[str, float]) -> str:
    return "\n".join(
        [
            f"SQuAD v1.1 dev: {figures['sentences']} sentences, {figures['passages']} passages",
            f"bare model.encode   {figures['bare_encode_seconds']:8.2f} s",
            f"full build          {figures['full_build_seconds']:8.2f} s "
            f"({figures['sentences_per_second']} sentences/s)",
            f"  of which entity tagging   {figures['tag_seconds']:8.2f} s",
            f"  ratio build / encode        {figures['build_to_encode_ratio']:.3f} "
            "(target <= 1.25 with entities)",
            f"incremental build   {figures['incremental_build_seconds']:8.2f} s "
            f"(one article changed, {figures['incremental_embedded']} sentences embedded)",
            f"  ratio incremental / full    {figures['incremental_to_full_ratio']:.4f} "
            "(target <= 0.05)",
            f"peak memory         {figures['peak_memory_mb']:8.1f} MB",
            json.dumps(figures),
        ]
    )
