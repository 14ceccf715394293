"""The streaming build: batches give the same index as one pass, and memory stays bounded."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.analysis.embedder import Embedder
from index.indexing import builder
from index.indexing.builder import BuildOptions, build_index
from index.storage.lexical import LexicalIndex, TokenIds
from index.storage.store import METADATA_FILE, current_build
from index.storage.vector_file import VectorFileReader, VectorFileWriter

TABLES = ("articles", "passages", "sentences", "entities", "statements", "entity_names")


def _tables(folder: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(folder / METADATA_FILE) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in TABLES
        }


def _more_seeds(seeds: Path) -> None:
    (seeds / "harbour.txt").write_text(
        "Harbour reopens\n\nThe harbour in Dover opened on Monday, said John Smith.\n\n"
        'Ships arrived. "We are ready," he said.\n'
    )
    (seeds / "stops.txt").write_text("Stop words\n\nIt is what it is.\n")  # no BM25 term at all
    (seeds / "vote.txt").write_text(
        "The vote\n\n6 May 2005\n\nVoters in Leeds voted on Thursday. Turnout: 61%.\n"
    )


def test_batches_of_one_article_build_the_same_index(
    seeds: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _more_seeds(seeds)
    whole = build_index(seeds, tmp_path / "whole", embedder, BuildOptions())
    monkeypatch.setattr(builder, "BUILD_BATCH", 1)  # every article its own batch
    batched = build_index(seeds, tmp_path / "batched", embedder, BuildOptions())
    assert whole.folder is not None and batched.folder is not None
    assert (batched.sentences, batched.passages) == (whole.sentences, whole.passages)
    assert _tables(batched.folder) == _tables(whole.folder)
    for name in ("vectors.npy", "sentence_passages.npy", "passage_sentences.npy"):
        # Embedding other batches pads differently: the same vectors within float16 rounding.
        assert np.allclose(
            np.load(batched.folder / name), np.load(whole.folder / name), atol=2e-3
        ), name
    one = LexicalIndex.load(whole.folder / "bm25", whole.passages)
    other = LexicalIndex.load(batched.folder / "bm25", batched.passages)
    for question in ("Who said the harbour opened?", "Mustafa Bali Raqqa", "turnout Leeds voted"):
        assert np.allclose(one.scores(question), other.scores(question))


def test_incremental_build_in_batches_reuses_across_them(
    seeds: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _more_seeds(seeds)
    monkeypatch.setattr(builder, "BUILD_BATCH", 1)
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    before = _tables(current_build(index_dir))
    (seeds / "vote.txt").write_text(
        "The vote\n\n6 May 2005\n\nVoters went to the polls. Rain fell.\n"
    )
    report = build_index(seeds, index_dir, embedder, BuildOptions())
    assert report.changed == ["vote.txt"] and report.embedded == 2
    assert report.tagged == 2  # the other articles kept their entities
    after = _tables(current_build(index_dir))
    assert after["statements"] == before["statements"]  # vote.txt, last, has none


def test_token_ids_index_as_the_texts_do() -> None:
    texts = ["Fighters surrendered to the elders.", "It is what it is.", "The river rose, rising."]
    documents = TokenIds()
    documents.add(texts[:2])
    documents.add(texts[2:])
    assert len(documents) == 3 and documents[2] == list(documents)[2]
    streamed, direct = LexicalIndex.from_token_ids(documents), LexicalIndex.build(texts)
    for query in ("surrender", "rise river", "elders fighters rose"):
        assert np.allclose(streamed.scores(query), direct.scores(query))


def test_vector_file_round_trip(tmp_path: Path) -> None:
    rows = np.random.default_rng(3).normal(size=(70, 8)).astype(np.float32)
    writer = VectorFileWriter(tmp_path / "v.npy", 8, np.float16)
    writer.append(rows[:50])
    writer.append(rows[50:])
    writer.finish()
    assert np.array_equal(np.load(tmp_path / "v.npy"), rows.astype(np.float16))
    reader = VectorFileReader(tmp_path / "v.npy")
    assert len(reader) == 70 and np.array_equal(reader.block(60, 99), rows[60:].astype(np.float16))
    assert np.array_equal(reader.take(np.array([2, 41])), rows[[2, 41]].astype(np.float16))
    with pytest.raises(ValueError, match="rows of 8"):
        VectorFileWriter(tmp_path / "w.npy", 8, np.float16).append(rows[:, :4])
    empty = VectorFileWriter(tmp_path / "e.npy", 8, np.float16)
    empty.finish()
    assert np.load(tmp_path / "e.npy").shape == (0, 8)


_PEAK = """
import json, sys, tempfile
from pathlib import Path
from workshop.bench.scale import measure_build_peak
print(json.dumps(measure_build_peak(int(sys.argv[1]))))
"""


def _build_peak(sentences: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(sentences)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def test_build_memory_grows_by_less_than_the_vectors_twice() -> None:
    """A build of 5x the sentences peaks higher by FAISS's lists (1.5 KB a sentence) and no
    more than another kilobyte: the corpus is never held whole (it used to be ~4 KB)."""
    small, large = _build_peak(20_000), _build_peak(100_000)
    per_sentence = (large["peak_mb"] - small["peak_mb"]) * 2**20 / (100_000 - 20_000)
    assert per_sentence < 2_600, (small, large)
