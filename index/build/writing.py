"""Writing a build's files into its staging folder: vectors, metadata, FAISS, BM25, the
question encoder and, last, the manifest that describes them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.analysis.embedder import Embedder, ModelInfo
from index.analysis.entities import Entity, TaggerInfo
from index.analysis.onnx_export import check_agreement, reuse_files, sample_rows
from index.analysis.query_encoder import (
    QUERY_FILES,
    QueryEncoderInfo,
    damaged_file,
)
from index.corpus.event_dates import sentence_event_date
from index.corpus.passages import ChunkingSettings, SplitArticle
from index.errors import (
    NewsdeskError,
    QueryEncoderError,
)
from index.storage.dense import STORED_DTYPE, DenseIndex, DenseParams
from index.storage.lexical import LexicalIndex
from index.storage.manifest import (
    FORMAT_VERSION,
    ArticleEntry,
    Manifest,
    library_versions,
    read_manifest,
    write_manifest,
)
from index.storage.metadata import write_metadata
from index.storage.store import (
    BM25_FOLDER,
    FAISS_FILE,
    METADATA_FILE,
    PASSAGE_SENTENCES_FILE,
    SENTENCE_PASSAGES_FILE,
    VECTORS_FILE,
    current_build,
    file_sizes,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildContents:
    """What a build writes: the split articles and, row for row, their vectors and entities."""

    splits: list[SplitArticle]
    vectors: np.ndarray
    entities: list[tuple[Entity, ...]]
    centroids: np.ndarray | None


@dataclass(frozen=True)
class BuildStamp:
    """What the manifest says made the build: its id, models, chunking and FAISS parameters."""

    build_id: str
    started: float  # time.perf_counter() when the build began
    model: ModelInfo
    tagger: TaggerInfo
    chunking: ChunkingSettings
    dense: DenseParams
    answer_model: str
    query_encoder: QueryEncoderInfo | None


def event_dates_of(
    splits: list[SplitArticle], entities: list[tuple[Entity, ...]]
) -> list[str | None]:
    """Every sentence's event date in build order, from its date spans and its article's date.

    Computed afresh on each build (microseconds a sentence), so an unchanged article whose
    entities are reused still gets the resolver's current reading.
    """
    dates: list[str | None] = []
    for split in splits:
        for sentence in split.sentences:
            own = entities[len(dates)]
            dates.append(sentence_event_date(sentence.text, own, split.article.date))
    return dates


def write_build(folder: Path, contents: BuildContents, stamp: BuildStamp) -> None:
    """Write every file of the build into ``folder``, the manifest (with their sizes) last."""
    splits, vectors = contents.splits, contents.vectors
    np.save(folder / VECTORS_FILE, vectors.astype(STORED_DTYPE))  # one half-size copy
    sentence_passages = write_metadata(
        folder / METADATA_FILE, splits, contents.entities, event_dates_of(splits, contents.entities)
    )
    np.save(folder / SENTENCE_PASSAGES_FILE, np.asarray(sentence_passages, dtype=np.int32))
    np.save(folder / PASSAGE_SENTENCES_FILE, passage_bounds(splits))
    DenseIndex.build(vectors, stamp.dense, contents.centroids).save(folder / FAISS_FILE)
    # The title goes into each passage's BM25 text: questions name the story as well as the fact.
    passages = [
        f"{split.article.title}. {passage.text}" for split in splits for passage in split.passages
    ]
    bm25_folder = folder / BM25_FOLDER
    bm25_folder.mkdir()
    LexicalIndex.build(passages).save(bm25_folder)

    articles, first = {}, 0
    for split in splits:
        article = split.article
        articles[article.id] = ArticleEntry(
            article.title,
            article.date,
            article.path,
            article.content_hash,
            first,
            len(split.sentences),
        )
        first += len(split.sentences)
    manifest = Manifest(
        format=FORMAT_VERSION,
        build_id=stamp.build_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - stamp.started, 3),
        model=stamp.model,
        entities=stamp.tagger,
        chunking=stamp.chunking,
        dense=stamp.dense,
        counts={
            "articles": len(splits),
            "paragraphs": sum(len(split.article.paragraphs) for split in splits),
            "passages": len(passages),
            "sentences": len(vectors),
        },
        articles=articles,
        files=file_sizes(folder),
        libraries=library_versions(),
        answer_model=stamp.answer_model,
        query_encoder=stamp.query_encoder,
    )
    write_manifest(folder, manifest)


def write_query_encoder(
    folder: Path,
    live: tuple[Path, QueryEncoderInfo] | None,
    embedder: Embedder,
    splits: list[SplitArticle],
    vectors: np.ndarray,
    say: Callable[[str], None] | None,
) -> tuple[QueryEncoderInfo, str] | None:
    """Give the build its ONNX question encoder, checked against the build's own vectors.

    The ``live`` build's files are kept (hard-linked) when there are any to keep; otherwise (a
    first build, an index from before there was an encoder, other model files, a damaged file)
    the model is exported again (some 4 s). Either way a sample of the index's sentences,
    encoded one at a time as questions are, must agree with their vectors, else
    ``QueryEncoderError``: the build fails and the live index stays. Returns the encoder's
    description and whether it was "kept" or "exported"; None for an embedder that has none.
    """
    texts = [sentence.text for split in splits for sentence in split.sentences]
    rows = sample_rows(len(texts))
    sample, expected = [texts[row] for row in rows], vectors[rows]
    if live is not None:
        source, kept = live
        reuse_files(source, folder)
        try:
            worst = check_agreement(folder, kept, sample, expected)
            return replace(kept, min_cosine=round(worst, 6)), "kept"
        except QueryEncoderError as error:
            log.warning("exporting the question encoder again: %s", error)
            for name in QUERY_FILES:
                (folder / name).unlink(missing_ok=True)
    if say is not None and getattr(embedder, "model", None) is not None:
        say("Exporting the question encoder to ONNX (a few seconds, once per model)…")
    made = embedder.export_query_encoder(folder)
    if made is None:
        return None
    worst = check_agreement(folder, made, sample, expected)
    return replace(made, min_cosine=round(worst, 6)), "exported"


def live_query_encoder(index_dir: Path, embedder: Embedder) -> tuple[Path, QueryEncoderInfo] | None:
    """The live build's encoder when it can be kept: made from the same model files, whole.

    Looked up even when the build re-embeds everything (``--full``, other chunking): the
    encoder depends on the model's files alone.
    """
    try:
        folder = current_build(index_dir)
        info = read_manifest(folder).query_encoder
    except NewsdeskError:
        return None
    if info is None or info.model_fingerprint != embedder.info.fingerprint:
        return None
    damaged = damaged_file(folder, info)
    if damaged is not None:
        log.warning("%s of the live build is damaged; exporting it again", damaged)
        return None
    return folder, info


def passage_bounds(splits: list[SplitArticle]) -> np.ndarray:
    """(first sentence id, sentence count) of every passage, in passage id order."""
    bounds: list[tuple[int, int]] = []
    base = 0
    for split in splits:
        bounds.extend((base + p.first_sentence, p.sentence_count) for p in split.passages)
        base += len(split.sentences)
    return np.asarray(bounds, dtype=np.int32).reshape(-1, 2)
