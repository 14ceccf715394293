from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from index.analysis.embedder import Embedder
from index.analysis.entities import EntityTagger
from index.corpus.passages import ChunkingSettings
from index.errors import (
    BuildInProgressError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    Remedy,
)
from index.indexing.builder import LOCK_FILE, STAGING_PREFIX, BuildOptions, build_index
from index.indexing.progress import BuildProgress
from index.storage.dense import DenseIndex, DenseParams, choose_params
from index.storage.lexical import LexicalIndex, TokenIds
from index.storage.store import current_build, open_index


def _open(index_dir: Path, embedder: Embedder, **chunking: int):  # type: ignore[no-untyped-def]
    return open_index(
        index_dir,
        model_name=embedder.info.name,
        chunking=ChunkingSettings(**chunking),
        model=embedder.info,
    )


def test_build_then_load_and_search(seeds: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    report = build_index(seeds, index_dir, embedder, BuildOptions())
    assert (report.added, report.embedded, report.sentences) == (["raqqa-2017-10-15.txt"], 16, 16)
    store = _open(index_dir, embedder)
    assert store.manifest.counts == {
        "articles": 1,
        "paragraphs": 14,
        "passages": 14,
        "sentences": 16,
    }
    assert store.manifest.articles["raqqa-2017-10-15.txt"].date == "2017-10-15"
    query = embedder.embed_query("Who said the final battle could take hours or days?")
    _, ids = store.dense.search(query, 1)
    assert "Mustafa Bali" in store.metadata.sentence(int(ids[0, 0])).text
    scores = store.lexical.scores("Mustafa Bali spokesman")
    best = store.metadata.passage(int(np.argmax(scores)))
    assert best.text.startswith("Mustafa Bali") and best.article.date == "2017-10-15"


def test_incremental_builds_embed_only_what_changed(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    (seeds / "other.txt").write_text("Harbour news\n\nThe harbour opened. Ships arrived.\n")
    first = build_index(seeds, index_dir, embedder, BuildOptions())
    assert first.embedded == 18

    again = build_index(seeds, index_dir, embedder, BuildOptions())
    assert (again.embedded, len(again.unchanged), again.added, again.changed) == (0, 2, [], [])

    (seeds / "other.txt").write_text("Harbour news\n\nThe harbour closed. Ships left. Gulls.\n")
    touched = build_index(seeds, index_dir, embedder, BuildOptions())
    assert (touched.changed, touched.embedded) == (["other.txt"], 3)
    store = _open(index_dir, embedder)
    # Reused vectors are the ones a fresh encoding gives, kept once, as float16 (cosines
    # within 1e-3), and FAISS holds the same rounded vectors as the stored copy.
    fresh = embedder.embed([store.metadata.sentence(0).text])
    assert store.vectors.dtype == np.float16
    assert np.allclose(store.vectors[0], fresh[0], atol=1e-3)
    assert np.array_equal(store.dense.index.reconstruct(0), store.vectors[0].astype(np.float32))
    store.close()

    (seeds / "other.txt").unlink()
    removed = build_index(seeds, index_dir, embedder, BuildOptions())
    assert (removed.removed, removed.embedded, removed.sentences) == (["other.txt"], 0, 16)

    full = build_index(seeds, index_dir, embedder, BuildOptions(full=True))
    assert full.embedded == 16
    # Only the live build is kept.
    assert len(list((index_dir / "builds").iterdir())) == 1


def test_interrupted_build_leaves_previous_index(
    seeds: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    before = current_build(index_dir)
    (seeds / "other.txt").write_text("Harbour news\n\nThe harbour opened.\n")

    def interrupt(documents: TokenIds) -> LexicalIndex:
        raise KeyboardInterrupt  # Ctrl-C after vectors, metadata and FAISS were written

    monkeypatch.setattr(
        LexicalIndex, "from_token_ids", classmethod(lambda cls, documents: interrupt(documents))
    )
    with pytest.raises(KeyboardInterrupt):
        build_index(seeds, index_dir, embedder, BuildOptions())
    assert current_build(index_dir) == before
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before.name]
    store = _open(index_dir, embedder)
    assert list(store.manifest.articles) == ["raqqa-2017-10-15.txt"]


def test_mismatched_or_damaged_index_is_refused(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(IndexMissingError, match="no index in") as missing:
        _open(index_dir, embedder)
    assert missing.value.remedy is Remedy.BUILD  # the CLI words it: "newsdesk index build"
    build_index(seeds, index_dir, embedder, BuildOptions())
    with pytest.raises(IndexMismatchError, match="other chunking"):
        _open(index_dir, embedder, passage_max_words=99)
    with pytest.raises(IndexMismatchError, match="settings name 'other-model'") as other:
        open_index(index_dir, model_name="other-model", chunking=ChunkingSettings())
    assert other.value.remedy is Remedy.REBUILD

    folder = current_build(index_dir)
    manifest_path = folder / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["model"]["fingerprint"] = "0000"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="fingerprint"):
        _open(index_dir, embedder)
    data["format"] = 999
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="format 999"):
        _open(index_dir, embedder)
    manifest_path.write_text("{not json")
    with pytest.raises(IndexCorruptError, match=r"manifest\.json is unreadable"):
        _open(index_dir, embedder)

    build_index(seeds, index_dir, embedder, BuildOptions())
    faiss_file = current_build(index_dir) / "sentences.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match=r"sentences\.faiss has 100 bytes"):
        _open(index_dir, embedder)
    # The next build notices the damage and re-embeds instead of reusing it.
    report = build_index(seeds, index_dir, embedder, BuildOptions())
    assert report.embedded == 16 and "cannot be reused" in (report.full_reason or "")


def test_ivf_above_the_exact_limit(seeds: Path, tmp_path: Path, embedder: Embedder) -> None:
    assert choose_params(50, exact_limit=100).kind == "flat"
    params = choose_params(5000, exact_limit=100)
    assert params.kind == "ivf" and params.nlist >= 16 and params.nprobe >= 8

    index_dir = tmp_path / "index"
    report = build_index(seeds, index_dir, embedder, BuildOptions(exact_limit=5))
    assert report.dense.kind == "ivf"
    store = _open(index_dir, embedder)
    assert store.manifest.dense.kind == "ivf"
    _, ids = store.dense.search(embedder.embed_query("How many civilians left?"), 3)
    assert ids.size and (ids >= 0).all()


def test_minus_one_ids_are_never_returned() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # 50 lists and one probe: a list holds ~40 vectors, so asking for 500 pads with -1.
    dense = DenseIndex.build(vectors, DenseParams("ivf", nlist=50, nprobe=1, trained_on=2000))
    _, raw_ids = dense.index.search(vectors[:3], 500)
    assert (raw_ids == -1).any()
    scores, ids = dense.search(vectors[:3], 500)
    assert ids.shape[1] > 0 and (ids >= 0).all() and scores.shape == ids.shape


def test_a_second_build_of_the_same_index_is_refused_until_the_first_ends(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(60)", str(index_dir / LOCK_FILE)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(BuildInProgressError, match=r"another build of .* is running"):
            build_index(seeds, index_dir, embedder, BuildOptions())
    finally:
        holder.kill()  # a killed builder's lock goes with it
        holder.wait()
    assert build_index(seeds, index_dir, embedder, BuildOptions()).added == ["raqqa-2017-10-15.txt"]


def test_a_crashed_builds_staging_folder_is_removed_by_the_next_build(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    leftover = index_dir / "builds" / f"{STAGING_PREFIX}20260101T000000-dead00"
    leftover.mkdir()
    (leftover / "vectors.npy").write_bytes(b"half written")
    build_index(seeds, index_dir, embedder, BuildOptions())
    assert not leftover.exists()
    assert [p.name for p in (index_dir / "builds").iterdir()] == [current_build(index_dir).name]


QUESTIONS = (
    "Who said the final battle could take hours or days?",
    "How many civilians left?",
    "What did the Kurdish-led forces capture?",
    "When did the fighting end?",
)


def test_bf16_and_fp32_builds_answer_alike(seeds: Path, tmp_path: Path, embedder: Embedder) -> None:
    """Each build records its precision; their vectors agree and they answer the same."""
    (seeds / "other.txt").write_text(
        "Harbour news\n\nThe harbour in Hull opened on Monday. Ships from Rotterdam arrived.\n"
    )
    stores = {}
    for precision in ("bf16", "fp32"):
        folder = tmp_path / precision
        report = build_index(seeds, folder, embedder.with_precision(precision), BuildOptions())
        assert report.tagged == report.sentences == 18
        stores[precision] = _open(folder, embedder)
        assert stores[precision].manifest.model.precision == precision
        raw = json.loads((current_build(folder) / "manifest.json").read_text(encoding="utf-8"))
        assert raw["model"]["precision"] == precision
    bf16, fp32 = stores["bf16"], stores["fp32"]
    try:
        a, b = (np.asarray(s.vectors, dtype=np.float32) for s in (bf16, fp32))
        assert np.sum(a * b, axis=1).min() >= 0.999
        # Tagged in a thread beside the encoder: every sentence's entities, in order.
        tagged = bf16.metadata.entities_between(0, bf16.sentence_count)
        assert tagged == fp32.metadata.entities_between(0, fp32.sentence_count)
        texts = [bf16.metadata.sentence(row).text for row in range(bf16.sentence_count)]
        assert tagged == list(EntityTagger().tag(texts))
        found = {
            (e.label, e.text_in(text)) for text, own in zip(texts, tagged, strict=True) for e in own
        }
        assert {("DATE", "Monday"), ("PERSON", "Mustafa Bali")} <= found
        for question in QUESTIONS:
            query = embedder.with_precision("fp32").embed_query(question)
            (b_scores, b_ids), (f_scores, f_ids) = (
                s.dense.search(query, 1) for s in stores.values()
            )
            assert b_ids[0, 0] == f_ids[0, 0], question  # the same best sentence
            assert abs(float(b_scores[0, 0]) - float(f_scores[0, 0])) < 2e-3
    finally:
        bf16.close()
        fp32.close()


def test_ctrl_c_while_encoding_stops_the_tagger_and_keeps_the_live_index(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    """The tagger runs on the build's pool: an interrupt mid-encoding leaves no thread behind."""
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    before = current_build(index_dir)
    paragraphs = [f"Ship {n} reached Hull on Monday. Crew {n} went home." for n in range(600)]
    (seeds / "ships.txt").write_text("Ships\n\n" + "\n\n".join(paragraphs) + "\n")

    def interrupt(progress: BuildProgress) -> None:
        if progress.stage == "embedding" and progress.articles_done > 0:
            raise KeyboardInterrupt  # the first step after STEP_TEXTS sentences are encoded

    with pytest.raises(KeyboardInterrupt):
        build_index(seeds, index_dir, embedder, BuildOptions(on_progress=interrupt))
    assert not [t for t in threading.enumerate() if t.name.startswith("newsdesk-build")]
    assert current_build(index_dir) == before
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before.name]
