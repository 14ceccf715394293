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
    Tail,
    check_compatible,
    read_manifest,
)
from index.storage.metadata import Metadata
from index.storage.milvus_dense import MilvusAddress, MilvusDense
from index.storage.segments import (
    REMOVED_PASSAGES_FILE,
    REMOVED_SENTENCES_FILE,
    TAIL_VECTORS_FILE,
    JoinedRows,
    TailDense,
    TailLexical,
)

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
    dense: DenseIndex | MilvusDense | TailDense
    lexical: LexicalIndex | TailLexical
    vectors: np.ndarray | JoinedRows  # (sentence ids, dimension), memory-mapped
    sentence_passages: np.ndarray  # (sentences,) passage id of each sentence
    passage_sentences: np.ndarray  # (passages, 2) first sentence id and count
    metadata: Metadata
    query_encoder: QueryEncoder | None = None  # None: an index built before there was one
    # Passage ids of removed or changed articles in a tail build: never a candidate.
    removed_passages: frozenset[int] = frozenset()

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
    counts, tail = manifest.counts, manifest.tail
    sentence_ids = tail.id_sentences if tail else counts["sentences"]
    passage_ids = tail.id_passages if tail else counts["passages"]
    base_sentences = tail.base_sentences if tail else counts["sentences"]
    base_passages = tail.base_passages if tail else counts["passages"]
    vectors = _load_array(folder / VECTORS_FILE, (base_sentences, manifest.model.dimension))
    sentence_passages = _load_array(folder / SENTENCE_PASSAGES_FILE, (sentence_ids,))
    passage_sentences = _load_array(folder / PASSAGE_SENTENCES_FILE, (passage_ids, 2))
    try:
        lexical = LexicalIndex.load(folder / BM25_FOLDER, base_passages)
    except IndexCorruptError as error:
        raise IndexCorruptError(f"{error}") from None
    bm25_documents = int(lexical.retriever.scores.get("num_docs", -1))
    _check_count(folder / BM25_FOLDER, bm25_documents, base_passages, "passages")
    query_encoder = None
    if manifest.query_encoder is not None:
        query_encoder = QueryEncoder.open(folder, manifest.query_encoder, threads=query_threads)
    metadata = Metadata(folder / METADATA_FILE)
    try:
        id_spaces = (
            {"articles": tail.id_articles, "passages": passage_ids, "sentences": sentence_ids}
            if tail
            else counts
        )
        for table, rows in metadata.row_counts().items():
            # A tail's last ids may be holes (a removed article): its highest id is then lower.
            if not (tail and rows <= id_spaces[table]):
                _check_count(folder / METADATA_FILE, rows, id_spaces[table], table)
        # Last: a Milvus client is the one thing here that would need closing on a failure.
        dense: DenseIndex | MilvusDense | TailDense = _open_dense(
            folder, manifest, vectors, milvus, base_sentences
        )
        joined: np.ndarray | JoinedRows = vectors
        searched_lexical: LexicalIndex | TailLexical = lexical
        removed: frozenset[int] = frozenset()
        if tail is not None and isinstance(dense, DenseIndex):
            dense, joined, searched_lexical = _with_tail(
                folder, manifest, tail, dense, vectors, lexical, metadata
            )
            removed = frozenset(searched_lexical.removed_passages.tolist())
    except BaseException:
        metadata.close()
        raise
    return IndexStore(
        folder,
        manifest,
        dense,
        searched_lexical,
        joined,
        sentence_passages,
        passage_sentences,
        metadata,
        query_encoder,
        removed,
    )


def _with_tail(
    folder: Path,
    manifest: Manifest,
    tail: Tail,
    dense: DenseIndex,
    vectors: np.ndarray,
    lexical: LexicalIndex,
    metadata: Metadata,
) -> tuple[TailDense, JoinedRows, TailLexical]:
    """The full build's parts joined with its tail's (see ``segments``)."""
    dimension = manifest.model.dimension
    tail_vectors = _load_array(folder / TAIL_VECTORS_FILE, (tail.tail_sentences, dimension))
    removed_sentences = np.sort(_load_array(folder / REMOVED_SENTENCES_FILE, None))
    removed_passages = np.sort(_load_array(folder / REMOVED_PASSAGES_FILE, None))
    texts = metadata.passage_texts(tail.base_passages, tail.id_passages)
    return (
        TailDense(dense, tail_vectors, removed_sentences),
        JoinedRows(vectors, tail_vectors),
        TailLexical(lexical, texts, removed_passages, tail.base_passages),
    )


def _open_dense(
    folder: Path,
    manifest: Manifest,
    vectors: np.ndarray,
    milvus: MilvusAddress | None,
    expected: int,
) -> DenseIndex | MilvusDense:
    """The build's FAISS file (the full build's sentences, ``expected`` of them), or its Milvus
    collection (every sentence)."""
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


def _load_array(path: Path, shape: tuple[int, ...] | None) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"index file {path} is unreadable ({error})") from None
    if shape is not None and array.shape != shape:
        raise IndexMismatchError(f"index file {path} has shape {array.shape}, expected {shape}")
    return array
