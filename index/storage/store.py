"""An index on disk: a folder of named files behind an atomically swapped ``current`` link.

::

    INDEX_DIR/current -> builds/<build id>/
        manifest.json  sentences.faiss  vectors.npy  sentence_passages.npy
        passage_sentences.npy  meta.sqlite  bm25/
        query_encoder.onnx  query_tokenizer.json     (the question encoder, no torch needed)

A build is written beside the live one and becomes live by replacing the ``current`` symlink,
which is one atomic rename: readers see the old build or the new one, never a half-written one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.analysis.embedder import ModelInfo
from index.analysis.query_encoder import QUERY_FILES, QueryEncoder
from index.corpus.passages import ChunkingSettings
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from index.storage.dense import DenseIndex
from index.storage.folder import CURRENT_LINK
from index.storage.lexical import LexicalIndex
from index.storage.manifest import (
    MANIFEST_NAME,
    Manifest,
    check_compatible,
    read_manifest,
)
from index.storage.metadata import Metadata
from index.storage.milvus_dense import MilvusAddress, MilvusDense

FAISS_FILE = "sentences.faiss"
VECTORS_FILE = "vectors.npy"
SENTENCE_PASSAGES_FILE = "sentence_passages.npy"
PASSAGE_SENTENCES_FILE = "passage_sentences.npy"
METADATA_FILE = "meta.sqlite"
BM25_FOLDER = "bm25"
# Files every build has; a manifest that does not list one cannot vouch for its size.
REQUIRED_FILES = (
    FAISS_FILE,
    VECTORS_FILE,
    SENTENCE_PASSAGES_FILE,
    PASSAGE_SENTENCES_FILE,
    METADATA_FILE,
)


def current_build(index_dir: Path) -> Path:
    """The live build folder; ``IndexMissingError`` when nothing was built yet."""
    link = index_dir / CURRENT_LINK
    if not link.exists():
        raise IndexMissingError(f"no index in {index_dir} yet")
    return link.resolve()


def file_sizes(folder: Path) -> dict[str, int]:
    """Size of every file of a build but the manifest, keyed by path relative to the build."""
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


@dataclass
class IndexStore:
    """A loaded build: both indexes, the vectors, the id maps and the records."""

    folder: Path
    manifest: Manifest
    dense: DenseIndex | MilvusDense
    lexical: LexicalIndex
    vectors: np.ndarray  # (sentences, dimension) float32, memory-mapped
    sentence_passages: np.ndarray  # (sentences,) passage id of each sentence
    passage_sentences: np.ndarray  # (passages, 2) first sentence id and count
    metadata: Metadata
    query_encoder: QueryEncoder | None = None  # None: an index built before there was one

    @property
    def sentence_count(self) -> int:
        return int(self.manifest.counts["sentences"])

    @property
    def passage_count(self) -> int:
        return int(self.manifest.counts["passages"])

    def close(self) -> None:
        self.metadata.close()
        if isinstance(self.dense, MilvusDense):
            self.dense.close()


def open_index(
    index_dir: Path,
    *,
    model_name: str,
    chunking: ChunkingSettings,
    model: ModelInfo | None = None,
    model_fingerprint: str | None = None,
    query_threads: int = 1,
    milvus: MilvusAddress | None = None,
) -> IndexStore:
    """Load the live build after checking it matches the settings and its files are whole.

    ``model_fingerprint`` checks the model files without a loaded ``model`` (questions need
    none: the build's ONNX encoder, loaded with ``query_threads`` threads, encodes them).
    An index whose vectors are in Milvus is searched there, at ``milvus``.
    Raises ``IndexMissingError``, ``IndexMismatchError``, ``IndexCorruptError`` or
    ``VectorEngineError``.
    """
    folder = current_build(index_dir)
    manifest = read_manifest(folder)
    check_compatible(
        manifest, model, model_name, chunking, folder=folder, model_fingerprint=model_fingerprint
    )
    verify_files(folder, manifest, skip=QUERY_FILES)
    counts = manifest.counts
    vectors = _load_array(folder / VECTORS_FILE, (counts["sentences"], manifest.model.dimension))
    sentence_passages = _load_array(folder / SENTENCE_PASSAGES_FILE, (counts["sentences"],))
    passage_sentences = _load_array(folder / PASSAGE_SENTENCES_FILE, (counts["passages"], 2))
    try:
        lexical = LexicalIndex.load(folder / BM25_FOLDER, counts["passages"])
    except IndexCorruptError as error:
        raise IndexCorruptError(f"{error}") from None
    bm25_documents = int(lexical.retriever.scores.get("num_docs", -1))
    _check_count(folder / BM25_FOLDER, bm25_documents, counts["passages"], "passages")
    query_encoder = None
    if manifest.query_encoder is not None:
        query_encoder = QueryEncoder.open(folder, manifest.query_encoder, threads=query_threads)
    metadata = Metadata(folder / METADATA_FILE)
    try:
        for table, rows in metadata.row_counts().items():
            _check_count(folder / METADATA_FILE, rows, counts[table], table)
        # Last: a Milvus client is the one thing here that would need closing on a failure.
        dense = _open_dense(folder, manifest, vectors, milvus)
    except BaseException:
        metadata.close()
        raise
    return IndexStore(
        folder,
        manifest,
        dense,
        lexical,
        vectors,
        sentence_passages,
        passage_sentences,
        metadata,
        query_encoder,
    )


def _open_dense(
    folder: Path, manifest: Manifest, vectors: np.ndarray, milvus: MilvusAddress | None
) -> DenseIndex | MilvusDense:
    """The build's FAISS file, or its Milvus collection; either holds every sentence."""
    expected = manifest.counts["sentences"]
    if manifest.dense.kind == "milvus":
        if milvus is None:
            raise IndexMismatchError(
                f"the index in {folder} keeps its vectors in Milvus; no engine address was given"
            )
        engine = MilvusDense.open(manifest.dense, milvus)
        if engine.count != expected:
            engine.close()
            raise IndexCorruptError(
                f"Milvus collection {manifest.dense.collection} holds {engine.count} vectors, "
                f"the index's {MANIFEST_NAME} says {expected}"
            )
        return engine
    try:
        dense = DenseIndex.load(folder / FAISS_FILE, manifest.dense, exact=vectors)
    except IndexCorruptError:  # FAISS's own message is a C++ assertion, no use to a person
        raise IndexCorruptError(
            f"index file {folder / FAISS_FILE} is unreadable by FAISS"
        ) from None
    _check_count(folder / FAISS_FILE, dense.count, expected, "vectors")
    return dense


def _check_count(path: Path, found: int, expected: int, what: str) -> None:
    """An index file holds as many records as the manifest counts, or the two disagree."""
    if found != expected:
        raise IndexCorruptError(
            f"index file {path} holds {found} {what}, its {MANIFEST_NAME} says {expected}"
        )


def verify_files(folder: Path, manifest: Manifest, *, skip: tuple[str, ...] = ()) -> None:
    """Every file the manifest lists (but ``skip``) is there with the size it had when written.

    The question encoder's files are skipped by their own check (their hash, with a hint that
    a plain build remakes them), and by a build, which remakes them instead of re-embedding.
    """
    in_engine = (FAISS_FILE,) if manifest.dense.kind == "milvus" else ()  # vectors in Milvus
    unlisted = [
        name for name in REQUIRED_FILES if name not in manifest.files and name not in in_engine
    ]
    if unlisted:
        raise IndexCorruptError(
            f"index manifest {folder / MANIFEST_NAME} does not list {unlisted[0]}"
        )
    for name, size in manifest.files.items():
        if name in skip:
            continue
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing")
        actual = path.stat().st_size
        if actual != size:
            raise IndexCorruptError(
                f"index file {path} has {actual} bytes, {size} were written (truncated or changed)"
            )


def _load_array(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"index file {path} is unreadable ({error})") from None
    if array.shape != shape:
        raise IndexMismatchError(f"index file {path} has shape {array.shape}, expected {shape}")
    return array
