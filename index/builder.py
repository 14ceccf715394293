"""Build the index from a seeds folder: incremental, and atomic on disk.

An article whose content hash is unchanged keeps its vectors from the live build; only added and
changed articles are embedded. Everything is written to a staging folder that becomes live with
one symlink swap, so an error or Ctrl-C mid-build leaves the previous index whole.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.articles import DEFAULT_MAX_ARTICLE_BYTES, ReadResult, read_articles
from index.dense import (
    DEFAULT_EXACT_LIMIT,
    DenseIndex,
    DenseParams,
    choose_params,
    reuse_training,
)
from index.embedder import EMBED_BATCH, Embedder
from index.entities import Entity, EntityTagger
from index.errors import (
    ArticleSkipped,
    BuildInProgressError,
    IndexFolderError,
    IndexWriteError,
    NewsdeskError,
    QueryEncoderError,
)
from index.folder import (
    BUILDS_FOLDER,
    CURRENT_LINK,
    STAGING_PREFIX,
    claim_index_folder,
    is_build_folder,
    is_staging_folder,
)
from index.lexical import LexicalIndex
from index.manifest import (
    FORMAT_VERSION,
    ArticleEntry,
    Manifest,
    check_compatible,
    library_versions,
    read_manifest,
    write_manifest,
)
from index.metadata import Metadata, write_metadata
from index.onnx_export import check_agreement, reuse_files, sample_rows
from index.passages import ChunkingSettings, SplitArticle, split_article
from index.query_encoder import (
    QUERY_FILES,
    QueryEncoderInfo,
    damaged_file,
)
from index.store import (
    BM25_FOLDER,
    FAISS_FILE,
    METADATA_FILE,
    PASSAGE_SENTENCES_FILE,
    SENTENCE_PASSAGES_FILE,
    VECTORS_FILE,
    current_build,
    file_sizes,
    verify_files,
)

log = logging.getLogger(__name__)

LOCK_FILE = ".build.lock"


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build depends on besides the seeds and the model."""

    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    exact_limit: int = DEFAULT_EXACT_LIMIT
    ivf_nlist: int = 0  # 0: sized by the count
    ivf_nprobe: int = 0  # 0: sized by nlist
    batch_size: int = EMBED_BATCH
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    show_progress: bool = False
    full: bool = False
    answer_model: str = ""  # fingerprint of the answer model to record in the manifest


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


@dataclass
class _Previous:
    manifest: Manifest
    vectors: np.ndarray
    folder: Path


def _dense_plan(
    previous: _Previous | None, count: int, options: BuildOptions, report: BuildReport
) -> tuple[DenseParams, np.ndarray | None]:
    """FAISS parameters for ``count`` vectors, keeping the previous IVF training when it fits.

    Records in the report when an IVF index had outgrown its training and was retrained.
    """
    wanted = choose_params(count, options.exact_limit, options.ivf_nlist, options.ivf_nprobe)
    if previous is None:
        return wanted, None
    kept = reuse_training(previous.manifest.dense, wanted, count)
    if kept is None:
        if previous.manifest.dense.kind == "ivf" and wanted.kind == "ivf":
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
    running; the live index is then untouched.
    """
    claim_index_folder(index_dir, seeds_dir)
    with _build_lock(index_dir):
        _remove_stale_staging(index_dir / BUILDS_FOLDER)
        return _build(seeds_dir, index_dir, embedder, tagger or EntityTagger(), options, say)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock, or refuse: two builds would race for the swap.

    ``flock`` is released by the kernel when its holder dies, so a crashed build never leaves
    the folder locked, and under the lock any staging folder is a crashed build's leftover.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK_FILE).open("a") as handle:
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


def _remove_stale_staging(builds: Path) -> None:
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
    started = time.perf_counter()
    report = BuildReport()
    read: ReadResult = read_articles(seeds_dir, options.max_article_bytes)
    report.skipped = read.skipped
    splits = [split_article(article, options.chunking) for article in read.articles]
    previous = (
        None if options.full else _load_previous(index_dir, embedder, tagger, options, report)
    )
    if options.full:
        report.full_reason = "--full was asked for"

    vectors = _assemble_vectors(splits, previous, embedder, options, report)
    tagging = time.perf_counter()
    entities = _assemble_entities(splits, previous, tagger, report)
    report.tag_seconds = time.perf_counter() - tagging
    report.sentences = len(vectors)
    report.passages = sum(len(split.passages) for split in splits)
    report.dense, centroids = _dense_plan(previous, len(vectors), options, report)

    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    builds = index_dir / BUILDS_FOLDER
    staging = builds / f"{STAGING_PREFIX}{build_id}"
    staging.mkdir(parents=True)
    try:
        live = _live_query_encoder(index_dir, embedder)
        _write_query_encoder(staging, live, embedder, splits, vectors, report, say)
        _write_build(
            staging,
            _Contents(splits, vectors, entities, centroids),
            embedder,
            tagger,
            options,
            report,
            build_id,
            started,
        )
        _sync_tree(staging)  # every file on disk before the build can become live
        final = builds / build_id
        staging.rename(final)
        _sync_folder(builds)
    except (OSError, sqlite3.Error) as error:  # a full disk, a file-size limit, a lost mount
        shutil.rmtree(staging, ignore_errors=True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise IndexWriteError(
            f"cannot write the new index in {builds} ({reason}); the live index is unchanged"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_current(index_dir, final)
    _sync_folder(index_dir)  # the swap itself survives a power loss before the old is deleted
    _remove_old_builds(builds, keep=final)
    report.folder = final
    report.seconds = time.perf_counter() - started
    return report


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
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
    except NewsdeskError as error:
        if (index_dir / CURRENT_LINK).exists():
            report.full_reason = f"the previous index cannot be reused: {error}"
        return None
    return _Previous(manifest, vectors, folder)


def _assemble_vectors(
    splits: list[SplitArticle],
    previous: _Previous | None,
    embedder: Embedder,
    options: BuildOptions,
    report: BuildReport,
) -> np.ndarray:
    """One row per sentence in build order: reused rows for unchanged articles, new ones else."""
    old = previous.manifest.articles if previous else {}
    reuse: dict[str, slice] = {}
    to_embed: list[str] = []
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
        to_embed.extend(sentence.text for sentence in split.sentences)
    current_keys = {split.article.id for split in splits}
    report.removed = sorted(key for key in old if key not in current_keys)

    fresh = embedder.embed(
        to_embed, batch_size=options.batch_size, show_progress=options.show_progress
    )
    report.embedded = len(fresh)
    total = sum(len(split.sentences) for split in splits)
    if not reuse:
        return fresh  # every article embedded, in build order: no second copy to assemble
    vectors = np.empty((total, embedder.info.dimension), dtype=np.float32)
    row = fresh_row = 0
    for split in splits:
        count = len(split.sentences)
        rows = reuse.get(split.article.id)
        if rows is not None and previous is not None:
            vectors[row : row + count] = previous.vectors[rows]
        else:
            vectors[row : row + count] = fresh[fresh_row : fresh_row + count]
            fresh_row += count
        row += count
    return vectors


def _assemble_entities(
    splits: list[SplitArticle],
    previous: _Previous | None,
    tagger: EntityTagger,
    report: BuildReport,
) -> list[tuple[Entity, ...]]:
    """The entities of every sentence in build order: unchanged articles keep their tags."""
    unchanged = set(report.unchanged)
    fresh_texts = [
        sentence.text
        for split in splits
        if split.article.id not in unchanged
        for sentence in split.sentences
    ]
    fresh = iter(list(tagger.tag(fresh_texts)) if fresh_texts else [])
    report.tagged = len(fresh_texts)
    entities: list[tuple[Entity, ...]] = []
    old = Metadata(previous.folder / METADATA_FILE) if previous and unchanged else None
    try:
        for split in splits:
            entry = previous.manifest.articles.get(split.article.id) if previous else None
            if old is not None and entry is not None and split.article.id in unchanged:
                first = entry.first_sentence
                entities.extend(old.entities_between(first, first + entry.sentence_count))
            else:
                entities.extend(next(fresh) for _ in split.sentences)
    finally:
        if old is not None:
            old.close()
    return entities


@dataclass(frozen=True)
class _Contents:
    """What a build writes: the split articles and, row for row, their vectors and entities."""

    splits: list[SplitArticle]
    vectors: np.ndarray
    entities: list[tuple[Entity, ...]]
    centroids: np.ndarray | None


def _write_build(
    folder: Path,
    contents: _Contents,
    embedder: Embedder,
    tagger: EntityTagger,
    options: BuildOptions,
    report: BuildReport,
    build_id: str,
    started: float,
) -> None:
    splits, vectors = contents.splits, contents.vectors
    np.save(folder / VECTORS_FILE, vectors)
    sentence_passages = write_metadata(folder / METADATA_FILE, splits, contents.entities)
    np.save(folder / SENTENCE_PASSAGES_FILE, np.asarray(sentence_passages, dtype=np.int32))
    np.save(folder / PASSAGE_SENTENCES_FILE, _passage_bounds(splits))
    DenseIndex.build(vectors, report.dense, contents.centroids).save(folder / FAISS_FILE)
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
        build_id=build_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
        model=embedder.info,
        entities=tagger.info,
        chunking=options.chunking,
        dense=report.dense,
        counts={
            "articles": len(splits),
            "paragraphs": sum(len(split.article.paragraphs) for split in splits),
            "passages": len(passages),
            "sentences": len(vectors),
        },
        articles=articles,
        files=file_sizes(folder),
        libraries=library_versions(),
        answer_model=options.answer_model,
        query_encoder=report.query_encoder,
    )
    write_manifest(folder, manifest)


def _write_query_encoder(
    folder: Path,
    live: tuple[Path, QueryEncoderInfo] | None,
    embedder: Embedder,
    splits: list[SplitArticle],
    vectors: np.ndarray,
    report: BuildReport,
    say: Callable[[str], None] | None,
) -> None:
    """Give the build its ONNX question encoder, checked against the build's own vectors.

    The ``live`` build's files are kept (hard-linked) when there are any to keep; otherwise (a
    first build, an index from before there was an encoder, other model files, a damaged file)
    the model is exported again (some 4 s). Either way a sample of the index's sentences,
    encoded one at a time as questions are, must agree with their vectors, else
    ``QueryEncoderError``: the build fails and the live index stays.
    """
    texts = [sentence.text for split in splits for sentence in split.sentences]
    rows = sample_rows(len(texts))
    sample, expected = [texts[row] for row in rows], vectors[rows]
    if live is not None:
        source, kept = live
        reuse_files(source, folder)
        try:
            worst = check_agreement(folder, kept, sample, expected)
            report.query_encoder = replace(kept, min_cosine=round(worst, 6))
            report.query_encoder_made = "kept"
            return
        except QueryEncoderError as error:
            log.warning("exporting the question encoder again: %s", error)
            for name in QUERY_FILES:
                (folder / name).unlink(missing_ok=True)
    if say is not None and getattr(embedder, "model", None) is not None:
        say("Exporting the question encoder to ONNX (a few seconds, once per model)…")
    made = embedder.export_query_encoder(folder)
    if made is None:
        return
    worst = check_agreement(folder, made, sample, expected)
    report.query_encoder = replace(made, min_cosine=round(worst, 6))
    report.query_encoder_made = "exported"


def _live_query_encoder(
    index_dir: Path, embedder: Embedder
) -> tuple[Path, QueryEncoderInfo] | None:
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


def _passage_bounds(splits: list[SplitArticle]) -> np.ndarray:
    """(first sentence id, sentence count) of every passage, in passage id order."""
    bounds: list[tuple[int, int]] = []
    base = 0
    for split in splits:
        bounds.extend((base + p.first_sentence, p.sentence_count) for p in split.passages)
        base += len(split.sentences)
    return np.asarray(bounds, dtype=np.int32).reshape(-1, 2)


def _swap_current(index_dir: Path, build: Path) -> None:
    """Point ``current`` at ``build`` with one atomic rename of a fresh symlink."""
    link = index_dir / CURRENT_LINK
    if link.exists() and not link.is_symlink():
        raise IndexFolderError(
            f"{link} is not the link Newsdesk made; move it away and build again"
        )
    temporary = index_dir / f".{CURRENT_LINK}-{build.name}"
    temporary.unlink(missing_ok=True)
    os.symlink(build.relative_to(index_dir), temporary)
    os.replace(temporary, index_dir / CURRENT_LINK)


def _sync_tree(folder: Path) -> None:
    """fsync every file under ``folder`` and every folder in it, deepest first."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            _sync_folder(path)
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so the names in it (a rename, a new link) are on disk too."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_old_builds(builds: Path, keep: Path) -> None:
    """Delete superseded builds; open readers keep their files until they close them (POSIX)."""
    for folder in builds.iterdir():
        if folder != keep and is_build_folder(folder):
            shutil.rmtree(folder, ignore_errors=True)
