"""Build the index from a seeds folder: streaming, incremental, and atomic on disk.

Articles go through in batches (read, split, embed, tag, written to SQLite, the vector file and
the BM25 token ids), so memory holds one batch plus FAISS's lists, not the corpus. An article
whose content hash is unchanged keeps its vectors and entities from the live build; only added
and changed articles are embedded. Everything is written to a staging folder that becomes live
with one symlink swap, so an error or Ctrl-C mid-build leaves the previous index whole.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.analysis.embedder import EMBED_BATCH, Embedder
from index.analysis.entities import Entity, EntityTagger
from index.analysis.query_encoder import (
    QUERY_FILES,
    QueryEncoderInfo,
)
from index.corpus.articles import (
    DEFAULT_MAX_ARTICLE_BYTES,
    Article,
    file_stamp,
    iter_article_files,
    iter_articles,
)
from index.corpus.passages import ChunkingSettings, SplitArticle, split_article
from index.errors import (
    ArticleSkipped,
    BuildInProgressError,
    IndexFolderError,
    IndexWriteError,
    NewsdeskError,
    VectorEngineError,
)
from index.indexing.progress import (
    BuildProgress,
    ProgressCallback,
    ProgressTracker,
    count_articles,
)
from index.indexing.publish import remove_old_builds, swap_current, sync_folder, sync_tree
from index.indexing.writing import (
    BuildStamp,
    BuildWriter,
    live_query_encoder,
    write_manifest_of,
    write_query_encoder,
)
from index.storage.dense import (
    DEFAULT_COMPRESS_LIMIT,
    DEFAULT_EXACT_LIMIT,
    DenseIndex,
    DenseParams,
    as_stored,
    choose_params,
    reuse_training,
)
from index.storage.folder import (
    BUILDS_FOLDER,
    CURRENT_LINK,
    LOCK_FILE,
    STAGING_PREFIX,
    claim_index_folder,
    is_staging_folder,
)
from index.storage.manifest import (
    Manifest,
    check_compatible,
    read_manifest,
)
from index.storage.metadata import Metadata
from index.storage.milvus_dense import (
    MilvusAddress,
    check_reachable,
    collection_name,
    collection_prefix,
    drop_collection,
    drop_collections_but,
)
from index.storage.segments import TAIL_VECTORS_FILE, JoinedRows
from index.storage.store import (
    FAISS_FILE,
    METADATA_FILE,
    VECTORS_FILE,
    current_build,
    verify_files,
)

log = logging.getLogger(__name__)

# Articles are read, embedded, tagged and written in batches of about this many sentences: the
# build holds one batch (some 40 MB of vectors and objects), not the corpus.
BUILD_BATCH = 16_384


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build depends on besides the seeds and the model."""

    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    exact_limit: int = DEFAULT_EXACT_LIMIT
    ivf_nlist: int = 0  # 0: sized by the count
    ivf_nprobe: int = 0  # 0: sized by nlist
    compress_limit: int = DEFAULT_COMPRESS_LIMIT  # above it, IVF with 6-bit codes
    batch_size: int = EMBED_BATCH
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    full: bool = False
    answer_model: str = ""  # fingerprint of the answer model to record in the manifest
    milvus: MilvusAddress | None = None  # keep the vectors in this Milvus engine, not FAISS
    on_progress: ProgressCallback | None = None  # told of each step, for a progress display


@dataclass
class BuildReport:
    """What a build did, for the person who ran it."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[ArticleSkipped] = field(default_factory=list)
    sentences: int = 0
    embedded: int = 0
    tagged: int = 0  # sentences run through the entity tagger (unchanged articles keep theirs)
    tag_seconds: float = 0.0
    passages: int = 0
    seconds: float = 0.0
    dense: DenseParams = field(default_factory=lambda: DenseParams("flat"))
    full_reason: str | None = None  # why everything was re-embedded, when it was
    retrained: str | None = None  # why the IVF lists were trained again, when they were
    query_encoder: QueryEncoderInfo | None = None  # the ONNX question encoder of the build
    query_encoder_made: str | None = None  # "exported" or "kept" (from the previous build)
    folder: Path | None = None
    tail_sentences: int | None = None  # an update through the tail: its sentences now


@dataclass
class _Previous:
    manifest: Manifest
    vectors: np.ndarray | JoinedRows
    folder: Path


def _dense_plan(
    previous: _Previous | None,
    count: int,
    options: BuildOptions,
    report: BuildReport,
    index_dir: Path,
    build_id: str,
) -> tuple[DenseParams, np.ndarray | None]:
    """FAISS parameters for ``count`` vectors, keeping the previous IVF training when it fits;
    for Milvus, a collection of the build's own, exact or IVF-Flat sized as FAISS would be.

    Records in the report when an IVF index had outgrown its training and was retrained.
    """
    wanted = choose_params(
        count, options.exact_limit, options.ivf_nlist, options.ivf_nprobe, options.compress_limit
    )
    if options.milvus is not None:
        return DenseParams(
            "milvus",
            nlist=wanted.nlist,
            nprobe=wanted.nprobe,
            trained_on=count if wanted.is_ivf else 0,
            collection=collection_name(index_dir, build_id),
        ), None
    if previous is None:
        return wanted, None
    kept = reuse_training(previous.manifest.dense, wanted, count)
    if kept is None:
        if previous.manifest.dense.kind == wanted.kind and wanted.is_ivf:
            report.retrained = (
                f"IVF retrained: trained on {previous.manifest.dense.trained_on} vectors, "
                f"now {count}"
            )
        return wanted, None
    old = DenseIndex.load(previous.folder / FAISS_FILE, previous.manifest.dense, mmap=False)
    return kept, old.centroids()


def build_index(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    options: BuildOptions,
    tagger: EntityTagger | None = None,
    say: Callable[[str], None] | None = None,
) -> BuildReport:
    """Read ``seeds_dir``, embed and tag what changed, and swap a new build in under ``index_dir``.

    ``say`` is told, in a line, about the steps that take seconds and show no progress bar
    (exporting the question encoder).

    ``tagger`` defaults to spaCy's small English pipeline. Raises ``NoArticlesError`` when there
    is nothing to index, ``BuildInProgressError`` when another build of ``index_dir`` is
    running, ``IndexFolderError`` when ``index_dir`` cannot be used (someone's folder, below a
    file, read-only), ``IndexWriteError`` when the new build cannot be written or made live;
    the live index is then untouched.
    """
    claim_index_folder(index_dir, seeds_dir)
    with build_lock(index_dir):
        remove_stale_staging(index_dir / BUILDS_FOLDER)
        return _build(seeds_dir, index_dir, embedder, tagger or EntityTagger(), options, say)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock, or refuse: two builds would race for the swap.

    ``flock`` is released by the kernel when its holder dies, so a crashed build never leaves
    the folder locked, and under the lock any staging folder is a crashed build's leftover.
    """
    try:
        handle = (index_dir / LOCK_FILE).open("a")
    except OSError as error:  # claimed a moment ago: made read-only, or its disk gone, since
        raise IndexFolderError(
            f"cannot write in the index folder {index_dir} ({error.strerror or error}); "
            "make it writable, or point the index at a folder that is"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgressError(
                f"another build of {index_dir} is running; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_staging(builds: Path) -> None:
    if not builds.is_dir():
        return
    for folder in builds.iterdir():
        if is_staging_folder(folder):
            log.warning("removing %s, left by a build that did not finish", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _build(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    tagger: EntityTagger,
    options: BuildOptions,
    say: Callable[[str], None] | None,
) -> BuildReport:
    """Stream the seeds through the build a batch of articles at a time (see ``BuildWriter``),
    then fill FAISS and BM25 from what was written."""
    started = time.perf_counter()
    report = BuildReport()
    if options.milvus is not None:
        check_reachable(options.milvus)
    previous = (
        None if options.full else _load_previous(index_dir, embedder, tagger, options, report)
    )
    if options.full:
        report.full_reason = "--full was asked for"
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    builds = index_dir / BUILDS_FOLDER
    staging = builds / f"{STAGING_PREFIX}{build_id}"
    with _writing(builds):
        staging.mkdir(parents=True)
    writer: BuildWriter | None = None
    old_metadata: Metadata | None = None
    try:
        with _writing(builds):
            writer = BuildWriter(staging, embedder.info.dimension)
        if previous is not None:
            old_metadata = Metadata(previous.folder / METADATA_FILE)
        seen: set[str] = set()
        sources = seed_stamps(seeds_dir)  # before reading: a file changed meanwhile is re-read
        tracker = _tracker(options, seeds_dir)
        articles = iter_articles(seeds_dir, report.skipped, options.max_article_bytes)
        for splits in _batches(articles, options.chunking):
            seen.update(split.article.id for split in splits)
            vectors, entities = _embed_and_tag(
                splits, previous, old_metadata, embedder, tagger, options, report, tracker
            )
            with _writing(builds):
                writer.add(splits, vectors, entities)
            if tracker is not None:
                tracker.batch_done(len(splits), sum(len(split.sentences) for split in splits))
        if tracker is not None:
            tracker.stage("indexing")
        old = previous.manifest.articles if previous else {}
        report.removed = sorted(key for key in old if key not in seen)
        report.sentences = writer.sentences
        report.passages = writer.metadata.passages
        report.dense, centroids = _dense_plan(
            previous, writer.sentences, options, report, index_dir, build_id
        )
        with _writing(builds):
            sample, expected = writer.sample()
            if tracker is not None:
                tracker.stage("checking the question encoder")
            live = live_query_encoder(index_dir, embedder)
            encoder = write_query_encoder(staging, live, embedder, sample, expected, say)
            if encoder is not None:
                report.query_encoder, report.query_encoder_made = encoder
            if tracker is not None:
                tracker.stage("writing the index")
            writer.finish(report.dense, centroids, options.milvus)
            stamp = BuildStamp(
                build_id=build_id,
                started=started,
                model=embedder.info,
                tagger=tagger.info,
                chunking=options.chunking,
                dense=report.dense,
                answer_model=options.answer_model,
                query_encoder=report.query_encoder,
            )
            for skipped in report.skipped:  # read again by the next update
                sources.pop(skipped.path, None)
            write_manifest_of(staging, writer, stamp, sources)
            sync_tree(staging)  # every file on disk before the build can become live
            final = builds / build_id
            staging.rename(final)
            sync_folder(builds)
    except BaseException:
        if writer is not None:
            writer.close()
        shutil.rmtree(staging, ignore_errors=True)
        _drop_engine_collection(options.milvus, report.dense)
        raise
    finally:
        if old_metadata is not None:
            old_metadata.close()
    replaced = _live_dense(index_dir)
    try:
        swap_current(index_dir, final)
    except BaseException as error:
        _drop_engine_collection(options.milvus, report.dense)
        if isinstance(error, OSError):  # the link was not replaced: the build never went live
            shutil.rmtree(final, ignore_errors=True)
            raise IndexWriteError(
                f"cannot make the new index live in {index_dir} ({error.strerror or error}); "
                "the live index is unchanged"
            ) from None
        raise
    sync_folder(index_dir)  # the swap itself survives a power loss before the old is deleted
    remove_old_builds(builds, keep=final)
    _drop_older_collections(options.milvus, index_dir, {report.dense, replaced})
    report.folder = final
    report.seconds = time.perf_counter() - started
    if options.on_progress is not None:
        options.on_progress(BuildProgress("done", len(seen), max(len(seen), 1), report.sentences))
    return report


def seed_stamps(seeds_dir: Path) -> dict[str, tuple[int, int]]:
    """Every seed file's (size, mtime) by its path in the folder (see ``file_stamp``)."""
    stamps = {}
    for path in iter_article_files(seeds_dir):
        stamp, name = file_stamp(path), path.relative_to(seeds_dir).as_posix()
        try:
            name.encode("utf-8")  # a name that is bytes is skipped by the build, not stamped
        except UnicodeEncodeError:
            continue
        if stamp is not None:
            stamps[name] = stamp
    return stamps


def _tracker(options: BuildOptions, seeds_dir: Path) -> ProgressTracker | None:
    if options.on_progress is None:
        return None
    return ProgressTracker(options.on_progress, count_articles(seeds_dir))


def _live_dense(index_dir: Path) -> DenseParams | None:
    """The dense parameters of the live build, if there is one with a readable manifest."""
    try:
        return read_manifest(current_build(index_dir)).dense
    except NewsdeskError:
        return None


def _drop_engine_collection(milvus: MilvusAddress | None, dense: DenseParams) -> None:
    """Drop a failed build's Milvus collection; an engine that cannot be reached now leaves it
    behind, with a warning (the next build drops it)."""
    if milvus is None or dense.kind != "milvus" or not dense.collection:
        return
    try:
        drop_collection(milvus, dense.collection)
    except VectorEngineError as error:
        log.warning("could not drop Milvus collection %s: %s", dense.collection, error)


def _drop_older_collections(
    milvus: MilvusAddress | None, index_dir: Path, kept: set[DenseParams | None]
) -> None:
    """After a swap, drop this index's collections but the new build's and the replaced one's
    (questions that began on it may still be searching it): one build late, as the engine
    retires its stores, and a crashed build's collection with them."""
    if milvus is None:
        return
    keep = {dense.collection for dense in kept if dense is not None and dense.kind == "milvus"}
    try:
        drop_collections_but(milvus, collection_prefix(index_dir), keep)
    except VectorEngineError as error:
        log.warning("could not drop the old Milvus collections: %s", error)


@contextmanager
def _writing(builds: Path) -> Iterator[None]:
    """Report a failed write (a full disk, a file-size limit, a lost mount) as one error that
    says the live index is unchanged."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise IndexWriteError(
            f"cannot write the new index in {builds} ({reason}); the live index is unchanged"
        ) from None


def _batches(
    articles: Iterator[Article], chunking: ChunkingSettings
) -> Iterator[list[SplitArticle]]:
    """The split articles in order, in batches of at least ``BUILD_BATCH`` sentences."""
    batch: list[SplitArticle] = []
    sentences = 0
    for article in articles:
        split = split_article(article, chunking)
        batch.append(split)
        sentences += len(split.sentences)
        if sentences >= BUILD_BATCH:
            yield batch
            batch, sentences = [], 0
    if batch:
        yield batch


def _load_previous(
    index_dir: Path,
    embedder: Embedder,
    tagger: EntityTagger,
    options: BuildOptions,
    report: BuildReport,
) -> _Previous | None:
    """The live build when its vectors can be reused, else None with the reason recorded."""
    try:
        folder = current_build(index_dir)
        manifest = read_manifest(folder)
        check_compatible(
            manifest, embedder.info, embedder.info.name, options.chunking, tagger=tagger.info
        )
        verify_files(folder, manifest, skip=QUERY_FILES)  # a damaged encoder is remade
        base = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        vectors: np.ndarray | JoinedRows = base
        if manifest.tail is not None:  # the articles added since: their rows follow on
            tail = np.load(folder / TAIL_VECTORS_FILE, mmap_mode="r", allow_pickle=False)
            vectors = JoinedRows(base, tail)
    except NewsdeskError as error:
        if (index_dir / CURRENT_LINK).exists():
            report.full_reason = f"the previous index cannot be reused: {error}"
        return None
    return _Previous(manifest, vectors, folder)


def _embed_and_tag(
    splits: list[SplitArticle],
    previous: _Previous | None,
    old_metadata: Metadata | None,
    embedder: Embedder,
    tagger: EntityTagger,
    options: BuildOptions,
    report: BuildReport,
    tracker: ProgressTracker | None,
) -> tuple[np.ndarray, list[tuple[Entity, ...]]]:
    """The vectors and entities of every sentence of the batch, unchanged articles' reused.

    spaCy tags on one thread of a pool while the encoder's batches run on the others, and on
    the tagger's too once it is done: both spend most of their time in native code that
    releases the GIL, so the tagging hides behind the encoding.
    """
    reuse = _reused_rows(splits, previous, report)
    texts = [
        sentence.text
        for split in splits
        if split.article.id not in reuse
        for sentence in split.sentences
    ]
    stop = threading.Event()
    with ThreadPoolExecutor(_cores(), thread_name_prefix="newsdesk-build") as pool:
        tagging = pool.submit(_tag, tagger, texts, stop)
        try:
            vectors = _batch_vectors(
                splits, reuse, texts, previous, embedder, options, report, tracker, pool
            )
            if tracker is not None:
                tracker.within_batch(len(splits), 1.0, "tagging")
            tagged, seconds = tagging.result()
        finally:  # an error or Ctrl-C: the tagger stops within one spaCy batch, no batch waits
            stop.set()
            pool.shutdown(cancel_futures=True)
    report.tagged += len(texts)
    report.tag_seconds += seconds
    return vectors, _batch_entities(splits, set(reuse), tagged, previous, old_metadata)


def _cores() -> int:
    """Threads for a build's pool: one per core it may run on, two at least (the tagger's and
    the encoder's)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, cores or 1)


def _tag(
    tagger: EntityTagger, texts: list[str], stop: threading.Event
) -> tuple[list[tuple[Entity, ...]], float]:
    """The entities of ``texts`` and the seconds they took; fewer when ``stop`` is set."""
    started = time.perf_counter()
    tagged: list[tuple[Entity, ...]] = []
    for entities in tagger.tag(texts):
        if stop.is_set():
            break
        tagged.append(entities)
    return tagged, time.perf_counter() - started


def _reused_rows(
    splits: list[SplitArticle], previous: _Previous | None, report: BuildReport
) -> dict[str, slice]:
    """The previous build's rows of each unchanged article of the batch; the others are
    recorded in the report as added or changed."""
    old = previous.manifest.articles if previous else {}
    reuse: dict[str, slice] = {}
    for split in splits:
        key, entry = split.article.id, old.get(split.article.id)
        if (
            entry is not None
            and entry.hash == split.article.content_hash
            and (entry.sentence_count == len(split.sentences))
        ):
            report.unchanged.append(key)
            reuse[key] = slice(entry.first_sentence, entry.first_sentence + entry.sentence_count)
            continue
        (report.changed if entry is not None else report.added).append(key)
    return reuse


def _batch_vectors(
    splits: list[SplitArticle],
    reuse: dict[str, slice],
    to_embed: list[str],
    previous: _Previous | None,
    embedder: Embedder,
    options: BuildOptions,
    report: BuildReport,
    tracker: ProgressTracker | None = None,
    pool: Executor | None = None,
) -> np.ndarray:
    """One row per sentence of the batch: ``reuse``'s rows for unchanged articles, ``to_embed``
    (the other articles' sentences, in order) encoded for the rest.

    Rows are rounded as the build stores them, so reused and new rows agree.
    """
    step = None
    if tracker is not None and to_embed:
        count, articles = len(to_embed), len(splits)

        def step(done: int) -> None:
            tracker.within_batch(articles, done / count)

    fresh = embedder.embed(to_embed, batch_size=options.batch_size, on_step=step, pool=pool)
    report.embedded += len(fresh)
    fresh = as_stored(fresh)
    if not reuse:
        return fresh  # every article embedded, in batch order: nothing to assemble
    total = sum(len(split.sentences) for split in splits)
    vectors = np.empty((total, embedder.info.dimension), dtype=np.float32)
    row = fresh_row = 0
    for split in splits:
        count = len(split.sentences)
        rows = reuse.get(split.article.id)
        if rows is not None and previous is not None:
            vectors[row : row + count] = as_stored(previous.vectors[rows])  # float32 if older
        else:
            vectors[row : row + count] = fresh[fresh_row : fresh_row + count]
            fresh_row += count
        row += count
    return vectors


def _batch_entities(
    splits: list[SplitArticle],
    unchanged: set[str],
    tagged: list[tuple[Entity, ...]],
    previous: _Previous | None,
    old_metadata: Metadata | None,
) -> list[tuple[Entity, ...]]:
    """The entities of every sentence of the batch: ``unchanged`` articles keep their tags,
    the others take ``tagged``'s, in order."""
    fresh = iter(tagged)
    entities: list[tuple[Entity, ...]] = []
    for split in splits:
        entry = previous.manifest.articles.get(split.article.id) if previous else None
        if old_metadata is not None and entry is not None and split.article.id in unchanged:
            first = entry.first_sentence
            entities.extend(old_metadata.entities_between(first, first + entry.sentence_count))
        else:
            entities.extend(next(fresh) for _ in split.sentences)
    return entities
