"""Writing a build's files into its staging folder: metadata, vectors and BM25 tokens a batch at
a time, then FAISS, BM25, the question encoder and, last, the manifest that describes them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
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
from index.storage.lexical import LexicalIndex, TokenIds
from index.storage.manifest import (
    FORMAT_VERSION,
    ArticleEntry,
    Manifest,
    library_versions,
    read_manifest,
    write_manifest,
)
from index.storage.metadata import MetadataWriter
from index.storage.milvus_dense import MilvusAddress, MilvusDense
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
from index.storage.vector_file import VectorFileReader, VectorFileWriter

log = logging.getLogger(__name__)


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
    splits: list[SplitArticle], entities: Sequence[tuple[Entity, ...]]
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


class BuildWriter:
    """The files of a build that grow an article batch at a time, so that a build holds one
    batch in memory whatever the size of the corpus: SQLite rows, the float16 vectors (appended
    to their ``.npy``), each passage's BM25 token ids, the id maps and the manifest's entries.
    """

    def __init__(self, folder: Path, dimension: int) -> None:
        self.folder = folder
        self.metadata = MetadataWriter(folder / METADATA_FILE)
        self.vectors = VectorFileWriter(folder / VECTORS_FILE, dimension, STORED_DTYPE)
        self.tokens = TokenIds()
        self.articles: dict[str, ArticleEntry] = {}
        self.paragraphs = 0
        self._sentence_passages: list[np.ndarray] = []
        self._passage_bounds: list[np.ndarray] = []

    @property
    def sentences(self) -> int:
        return self.metadata.sentences

    def add(
        self,
        splits: list[SplitArticle],
        vectors: np.ndarray,
        entities: Sequence[tuple[Entity, ...]],
    ) -> None:
        """Write a batch: ``vectors[i]`` and ``entities[i]`` belong to its sentence ``i``."""
        first = self.metadata.sentences
        passages = self.metadata.add(splits, entities, event_dates_of(splits, entities))
        self._sentence_passages.append(np.asarray(passages, dtype=np.int32))
        self._passage_bounds.append(passage_bounds(splits, first))
        self.vectors.append(vectors)
        # The title goes into each passage's BM25 text: questions name the story as well as
        # the fact.
        self.tokens.add(
            [
                f"{split.article.title}. {passage.text}"
                for split in splits
                for passage in split.passages
            ]
        )
        row = first
        for split in splits:
            article = split.article
            self.articles[article.id] = ArticleEntry(
                article.title,
                article.date,
                article.path,
                article.content_hash,
                row,
                len(split.sentences),
            )
            row += len(split.sentences)
            self.paragraphs += len(article.paragraphs)

    def sample(self) -> tuple[list[str], np.ndarray]:
        """The fixed sample of sentences the question encoder is checked on, and their vectors
        as stored (read back from the files, so the check sees what questions will meet)."""
        rows = sample_rows(self.sentences)
        self.vectors.finish()
        vectors = VectorFileReader(self.folder / VECTORS_FILE).take(np.asarray(rows))
        return self.metadata.texts(rows), vectors.astype(np.float32)

    def finish(
        self, dense: DenseParams, centroids: np.ndarray | None, milvus: MilvusAddress | None
    ) -> None:
        """Close the growing files and write the indexes made from them: the id maps, FAISS
        BM25 (from the kept token ids) and FAISS (filled from the vector file; or the Milvus
        collection at ``milvus``, for that kind)."""
        self.metadata.finish()
        self.vectors.finish()
        np.save(self.folder / SENTENCE_PASSAGES_FILE, _joined(self._sentence_passages, (0,)))
        np.save(self.folder / PASSAGE_SENTENCES_FILE, _joined(self._passage_bounds, (0, 2)))
        self._sentence_passages = self._passage_bounds = []
        # BM25 first, and its token ids let go: the build then holds either them or FAISS's
        # lists, never both (at 10M sentences each is a few GB).
        bm25_folder = self.folder / BM25_FOLDER
        bm25_folder.mkdir()
        LexicalIndex.from_token_ids(self.tokens).save(bm25_folder)
        self.tokens = TokenIds()
        stored = VectorFileReader(self.folder / VECTORS_FILE)
        if dense.kind == "milvus":
            if milvus is None:
                raise ValueError("a Milvus build needs the engine's address")
            MilvusDense.build_from_file(stored, dense, milvus).close()
        else:
            DenseIndex.build_from_file(stored, dense, centroids).save(self.folder / FAISS_FILE)

    def close(self) -> None:
        """Close the open files (after a failure; the staging folder is then removed)."""
        self.metadata.close()
        self.vectors.close()


def write_manifest_of(
    folder: Path,
    writer: BuildWriter,
    stamp: BuildStamp,
    sources: dict[str, tuple[int, int]] | None = None,
) -> None:
    """Write the manifest last, with the sizes of every file the build wrote and the stamps
    of the seed files it read (``sources``)."""
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
            "articles": writer.metadata.articles,
            "paragraphs": writer.paragraphs,
            "passages": writer.metadata.passages,
            "sentences": writer.metadata.sentences,
        },
        articles=writer.articles,
        files=file_sizes(folder),
        libraries=library_versions(),
        answer_model=stamp.answer_model,
        query_encoder=stamp.query_encoder,
        sources=sources or {},
    )
    write_manifest(folder, manifest)


def _joined(parts: list[np.ndarray], empty: tuple[int, ...]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(empty, dtype=np.int32)


def write_query_encoder(
    folder: Path,
    live: tuple[Path, QueryEncoderInfo] | None,
    embedder: Embedder,
    sample: list[str],
    expected: np.ndarray,
    say: Callable[[str], None] | None,
) -> tuple[QueryEncoderInfo, str] | None:
    """Give the build its ONNX question encoder, checked against the build's own vectors.

    The ``live`` build's files are kept (hard-linked) when there are any to keep; otherwise (a
    first build, an index from before there was an encoder, other model files, a damaged file)
    the model is exported again (some 4 s). Either way a sample of the index's sentences,
    encoded one at a time as questions are, must agree with their vectors, else
    ``QueryEncoderError``: the build fails and the live index stays. Returns the encoder's
    description and whether it was "kept" or "exported"; None for an embedder that has none.
    ``sample`` are sentences of the build and ``expected`` their vectors.
    """
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


def passage_bounds(splits: list[SplitArticle], base: int = 0) -> np.ndarray:
    """(first sentence id, sentence count) of every passage, in passage id order, for articles
    whose first sentence has id ``base``."""
    bounds: list[tuple[int, int]] = []
    for split in splits:
        bounds.extend((base + p.first_sentence, p.sentence_count) for p in split.passages)
        base += len(split.sentences)
    return np.asarray(bounds, dtype=np.int32).reshape(-1, 2)
