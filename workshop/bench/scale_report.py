"""How ``bench scale`` prints its figures: one index, the dense kinds side by side, and the
Milvus engine over FAISS for the same corpus in the same run."""

from __future__ import annotations

import json
from typing import Any

from index.storage.dense import COMPRESSED_KIND


def format_scale_bench(figures: dict[str, Any]) -> str:
    index = figures["index"]
    if index["kind"] == "milvus":
        kind = f"Milvus server, {figures['engine']}"
    elif index["kind"] == "flat":
        kind = "exact"
    else:
        kind = (
            f"{index['kind'].upper()} nlist={index['nlist']} "
            f"nprobe={index['nprobe']} trained_on={index['trained_on']}"
            + (f" rerank x{index['rerank']}" if index.get("rerank") else "")
        )
    build = f"build {figures['build_seconds']} s, peak {figures['build_peak_mb']} MB"
    if index["kind"] == "milvus":
        build += f" (the engine's {figures['engine_build_peak_mb']} MB)"
    disk = f"{figures['disk_bytes_per_sentence']} bytes/sentence on disk (target <= 2048)"
    load = f"load {figures['load_seconds']} s (target <= 3)"
    memory = f"resident after load {figures['rss_after_load_mb']} MB (target <= 3000)"
    if figures.get("engine_rss_mb"):
        memory += f", the engine's {figures['engine_rss_mb']} MB"
    dense = f"dense p50/p95 {figures['dense_p50_ms']}/{figures['dense_p95_ms']} ms (target <= 10)"
    bm25 = f"BM25 {figures['bm25_p50_ms']}/{figures['bm25_p95_ms']} ms"
    hybrid = f"hybrid {figures['hybrid_p50_ms']}/{figures['hybrid_p95_ms']} ms (target <= 30)"
    recall = f"dense recall@10 against exact {figures['dense_recall@10']} (target >= 0.95)"
    added = (
        [
            f"  one article added through the {figures['add_one_article_through']}: searchable "
            f"in {figures['add_one_article_searchable_seconds']} s (target <= 10; written in "
            f"{figures['add_one_article_seconds']} s), found: {figures['add_one_article_found']}"
        ]
        if "add_one_article_seconds" in figures
        else []
    )
    return "\n".join(
        [
            f"{figures['sentences']} sentences, {figures['passages']} passages: {kind} "
            f"({figures['vectors']})",
            f"  {build}, {disk}, {load}, {memory}",
            f"  {dense}, {bm25}, {hybrid}",
            f"  {recall}",
            *added,
            json.dumps(figures),
        ]
    )


def format_dense_bench(figures: dict[str, Any]) -> str:
    flat, sq = figures["kinds"]["ivf"], figures["kinds"][COMPRESSED_KIND]
    lines = [f"dense index alone, {figures['vectors']} vectors (float16 copy on disk beside it)"]
    lines.append(f"  {'':<30}{'IVF-Flat':>12}{COMPRESSED_KIND.upper():>12}{'ratio':>8}")
    for key in (
        "build_seconds",
        "faiss_bytes_per_vector",
        "bytes_per_sentence_with_vectors",
        "p50_ms",
        "p95_ms",
        "recall@10",
    ):
        ratio = sq[key] / flat[key] if flat[key] else float("nan")
        lines.append(f"  {key:<30}{flat[key]:>12}{sq[key]:>12}{ratio:>8.2f}")
    lines.append(json.dumps(figures))
    return "\n".join(lines)


def format_backend_ratios(faiss: dict[str, Any], milvus: dict[str, Any]) -> str:
    """Milvus's figures over FAISS's, for the same corpus in the same run."""
    keys = ("build_seconds", "load_seconds", "dense_p50_ms", "hybrid_p50_ms", "dense_recall@10")
    ratios = ", ".join(
        f"{key} {milvus[key] / faiss[key]:.2f}x" if faiss[key] else f"{key} -" for key in keys
    )
    return (
        f"milvus / faiss at {faiss['sentences']} sentences: {ratios} "
        "(targets: build <= 2x, hybrid p50 <= 3x, recall@10 >= 0.95)"
    )
