"""Updates in proportion to the change: new and changed articles go to the index's tail.

A full build rewrites every file of the index (18 s of a busy machine for one new article
among 1,848). ``update_tail`` writes a new build that hard-links the full build's big files
(FAISS, the base vectors, BM25, the question encoder), copies and amends its metadata and id
maps, and keeps the new articles' vectors in its tail (see ``storage.segments``): the time
goes to the articles that changed, plus copying ``meta.sqlite``. The new build is made live by
the same atomic swap as a full build, so a crash at any point leaves the live index whole.

It declines (returns None) when a full build is due: no live index, another model or
chunking, vectors in Milvus, or a tail grown past ``tail_limit`` (the full build then folds
the tail back in, re-embedding nothing it can reuse).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.analysis.entities import EntityTagger
from index.analysis.query_encoder import QUERY_FILES
from index.corpus.articles import Article, iter_article_files, read_seed_file
from index.corpus.passages import SplitArticle, split_article
from index.errors import IndexWriteError, NewsdeskError
from index.indexing.builder import (
    BuildOptions,
    BuildReport,
    build_lock,
    remove_stale_staging,
    seed_stamps,
)
from index.indexing.publish import remove_old_builds, swap_current, sync_folder, sync_tree
from index.indexing.writing import event_dates_of, passage_bounds
from index.storage.dense import as_stored
from index.storage.folder import BUILDS_FOLDER, STAGING_PREFIX, claim_index_folder
from index.storage.manifest import (
    ArticleEntry,
    Manifest,
    Tail,
    check_compatible,
    read_manifest,
    write_manifest,
)
from index.storage.metadata import ArticleSpan, MetadataWriter
from index.storage.segments import (
    REMOVED_PASSAGES_FILE,
    REMOVED_SENTENCES_FILE,
    TAIL_VECTORS_FILE,
)
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

# The tail may grow to this share of the full build's sentences (and at least TAIL_MIN) before
# a full build folds it in: its BM25 is made in memory at every load and its vectors are
# searched exactly, both cheap at this size.
TAIL_SHARE = 0.05
TAIL_MIN = 2_000
TAIL_MAX = 50_000

Encode = Callable[[list[str]], np.ndarray]  # texts -> unit rows, as the index's vectors


@dataclass(frozen=True)
class SentenceEncoder:
    """How an update embeds new sentences, and what the manifest says made them."""

    encode: Encode
    name: str  # "question encoder" (the index's ONNX encoder, no torch) or "model"


def tail_limit(base_sentences: int) -> int:
    return min(max(TAIL_MIN, int(base_sentences * TAIL_SHARE)), TAIL_MAX)


def update_tail(
    seeds_dir: Path,
    index_dir: Path,
    options: BuildOptions,
    tagger: EntityTagger,
    encoder_of: Callable[[Path, Manifest], SentenceEncoder | None],
    model_name: str,
    model_fingerprint: str | None = None,
) -> BuildReport | None:
    """Bring the live index up to ``seeds_dir`` through its tail; None when a full build is due.

    ``encoder_of(folder, manifest)`` gives the encoder for the live build (None: none fits,
    or the build lacks a part only a full build makes, such as its question encoder).
    Raises what a build raises (``BuildInProgressError``, ``IndexFolderError``,
    ``IndexWriteError``); the live index is then untouched.
    """
    if options.full or options.milvus is not None:
        return None
    claim_index_folder(index_dir, seeds_dir)
    with build_lock(index_dir):
        remove_stale_staging(index_dir / BUILDS_FOLDER)
        try:
            folder = current_build(index_dir)
            manifest = read_manifest(folder)
            check_compatible(
                manifest,
                None,
                model_name,
                options.chunking,
                tagger=tagger.info,
                model_fingerprint=model_fingerprint,
            )
        except NewsdeskError as error:
            log.info("a full build is due: %s", error)
            return None
        if manifest.dense.kind == "milvus" or manifest.answer_model != options.answer_model:
            return None  # the engine holds the vectors, or the build is for another answer model
        encoder = encoder_of(folder, manifest)
        if encoder is None:
            return None
        return _update(seeds_dir, index_dir, folder, manifest, options, tagger, encoder)


def _update(
    seeds_dir: Path,
    index_dir: Path,
    live: Path,
    manifest: Manifest,
    options: BuildOptions,
    tagger: EntityTagger,
    encoder: SentenceEncoder,
) -> BuildReport | None:
    started = time.perf_counter()
    report = BuildReport(
        dense=manifest.dense, query_encoder=manifest.query_encoder, query_encoder_made="kept"
    )
    old = manifest.articles
    fresh: list[SplitArticle] = []
    seen: set[str] = set()
    stamps = seed_stamps(seeds_dir)  # before reading: a file changed meanwhile is re-read
    for article in _changed_articles(seeds_dir, manifest, stamps, seen, options, report):
        seen.add(article.id)
        entry = old.get(article.id)
        if entry is not None and entry.hash == article.content_hash:
            report.unchanged.append(article.id)
            continue
        (report.changed if entry is not None else report.added).append(article.id)
        fresh.append(split_article(article, options.chunking))
    report.removed = sorted(key for key in old if key not in seen)
    if not fresh and not report.removed and stamps == manifest.sources:
        report.sentences = manifest.counts["sentences"]
        report.passages = manifest.counts["passages"]
        report.folder = live
        report.seconds = time.perf_counter() - started
        return report  # nothing changed: the live build stands
    if not seen:
        return None  # an empty seeds folder: the full build says so
    for skipped in report.skipped:  # read again next time: a limit raised, a file fixed
        stamps.pop(skipped.path, None)
    tail = manifest.tail or _no_tail(manifest)
    new_sentences = sum(len(split.sentences) for split in fresh)
    holes = _hole_count(live, manifest) + sum(
        old[key].sentence_count for key in [*report.changed, *report.removed]
    )
    if tail.tail_sentences + new_sentences + holes > tail_limit(tail.base_sentences):
        log.info("the tail would pass its limit: a full build folds it in")
        return None
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    builds = index_dir / BUILDS_FOLDER
    staging = builds / f"{STAGING_PREFIX}{build_id}"
    try:
        staging.mkdir(parents=True)
        final = _write(
            staging, builds, build_id, live, manifest, tail, fresh, report, tagger, encoder, stamps
        )
    except (OSError, sqlite3.Error) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexWriteError(
            f"cannot write the index update in {builds} ({error}); the live index is unchanged"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_current(index_dir, final)
    sync_folder(index_dir)
    remove_old_builds(builds, keep=final)
    report.folder = final
    report.seconds = time.perf_counter() - started
    return report


def _write(
    staging: Path,
    builds: Path,
    build_id: str,
    live: Path,
    manifest: Manifest,
    tail: Tail,
    fresh: list[SplitArticle],
    report: BuildReport,
    tagger: EntityTagger,
    encoder: SentenceEncoder,
    stamps: dict[str, tuple[int, int]],
) -> Path:
    """Write the updated build into ``staging`` and rename it into place; returns its folder."""
    _link_base_files(live, staging)
    shutil.copyfile(live / METADATA_FILE, staging / METADATA_FILE)
    writer = MetadataWriter.extend(
        staging / METADATA_FILE, tail.id_articles, tail.id_passages, tail.id_sentences
    )
    try:
        replaced = [*report.changed, *report.removed]
        passage_of = np.load(live / SENTENCE_PASSAGES_FILE, mmap_mode="r")
        spans = [
            _span(key, manifest.articles[key], passage_of)
            for key in replaced
            if manifest.articles[key].sentence_count
        ]
        gone_sentences, gone_passages = writer.remove_articles(spans)
        texts = [sentence.text for split in fresh for sentence in split.sentences]
        tagging = time.perf_counter()
        entities = list(tagger.tag(texts))
        report.tag_seconds = time.perf_counter() - tagging
        report.tagged = len(texts)
        vectors = as_stored(encoder.encode(texts)) if texts else None
        report.embedded = len(texts)
        first = writer.sentences
        passages = writer.add(fresh, entities, event_dates_of(fresh, entities))
        writer.finish()
    except BaseException:
        writer.close()
        raise
    sentence_passages = np.concatenate(
        [np.load(live / SENTENCE_PASSAGES_FILE), np.asarray(passages, dtype=np.int32)]
    )
    passage_sentences = np.concatenate(
        [np.load(live / PASSAGE_SENTENCES_FILE), passage_bounds(fresh, first)]
    )
    np.save(staging / SENTENCE_PASSAGES_FILE, sentence_passages.astype(np.int32))
    np.save(staging / PASSAGE_SENTENCES_FILE, passage_sentences.astype(np.int32))
    tail_rows = _old_tail(live, manifest)
    if vectors is not None:
        tail_rows = np.concatenate([tail_rows, vectors.astype(tail_rows.dtype)])
    np.save(staging / TAIL_VECTORS_FILE, tail_rows)
    np.save(staging / REMOVED_SENTENCES_FILE, _grown(live, REMOVED_SENTENCES_FILE, gone_sentences))
    np.save(staging / REMOVED_PASSAGES_FILE, _grown(live, REMOVED_PASSAGES_FILE, gone_passages))
    new_tail = replace(
        tail,
        id_sentences=len(sentence_passages),
        id_passages=len(passage_sentences),
        id_articles=writer.articles,
        encoded_by=encoder.name if tail.tail_sentences == 0 else tail.encoded_by,
    )
    _write_manifest(staging, build_id, manifest, new_tail, fresh, first, report, stamps)
    report.tail_sentences = new_tail.tail_sentences
    sync_tree(staging)
    final = builds / build_id
    staging.rename(final)
    sync_folder(builds)
    return final


def _changed_articles(
    seeds_dir: Path,
    manifest: Manifest,
    stamps: dict[str, tuple[int, int]],
    seen: set[str],
    options: BuildOptions,
    report: BuildReport,
) -> Iterator[Article]:
    """The articles of the seed files whose stamp differs from the build's; the articles of
    the others are added to ``seen`` (and counted unchanged) without reading them."""
    keys_by_path: dict[str, list[str]] = {}
    for key, entry in manifest.articles.items():
        keys_by_path.setdefault(entry.path, []).append(key)
    for path in sorted(iter_article_files(seeds_dir, report.skipped)):
        name = path.relative_to(seeds_dir).as_posix()
        if name in stamps and manifest.sources.get(name) == stamps[name]:
            kept = keys_by_path.get(name, [])
            seen.update(kept)
            report.unchanged.extend(kept)
            continue
        yield from read_seed_file(path, seeds_dir, report.skipped, options.max_article_bytes)


def _span(key: str, entry: ArticleEntry, passage_of: np.ndarray) -> ArticleSpan:
    """An article's key and id ranges (its sentences and passages are numbered in a run)."""
    first, stop = entry.first_sentence, entry.first_sentence + entry.sentence_count
    return ArticleSpan(key, first, stop, int(passage_of[first]), int(passage_of[stop - 1]) + 1)


def _hole_count(live: Path, manifest: Manifest) -> int:
    """Sentences of removed or changed articles still kept as holes in the live build."""
    if manifest.tail is None:
        return 0
    return len(np.load(live / REMOVED_SENTENCES_FILE, mmap_mode="r"))


def _link_base_files(live: Path, staging: Path) -> None:
    """The full build's immutable files, shared by hard links (instant, no extra space)."""
    names = [FAISS_FILE, VECTORS_FILE, *QUERY_FILES]
    names += [f"{BM25_FOLDER}/{path.name}" for path in (live / BM25_FOLDER).iterdir()]
    (staging / BM25_FOLDER).mkdir()
    for name in names:
        source = live / name
        if not source.exists():
            continue
        try:
            os.link(source, staging / name)
        except OSError:  # a file system without hard links: a copy does the same
            shutil.copyfile(source, staging / name)


def _no_tail(manifest: Manifest) -> Tail:
    """A full build seen as one with an empty tail."""
    counts = manifest.counts
    return Tail(
        base_build=manifest.build_id,
        base_sentences=counts["sentences"],
        base_passages=counts["passages"],
        id_sentences=counts["sentences"],
        id_passages=counts["passages"],
        id_articles=counts["articles"],
        encoded_by="",
    )


def _old_tail(live: Path, manifest: Manifest) -> np.ndarray:
    if manifest.tail is None:
        return np.zeros((0, manifest.model.dimension), dtype=np.float16)
    return np.load(live / TAIL_VECTORS_FILE)


def _grown(live: Path, name: str, more: Sequence[int]) -> np.ndarray:
    path = live / name
    old = np.load(path) if path.exists() else np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate([old.astype(np.int64), np.asarray(more, dtype=np.int64)]))


def _write_manifest(
    staging: Path,
    build_id: str,
    manifest: Manifest,
    tail: Tail,
    fresh: list[SplitArticle],
    first: int,
    report: BuildReport,
    stamps: dict[str, tuple[int, int]],
) -> None:
    articles = {
        key: entry
        for key, entry in manifest.articles.items()
        if key not in report.changed and key not in report.removed
    }
    row = first
    for split in fresh:
        article = split.article
        articles[article.id] = ArticleEntry(
            article.title,
            article.date,
            article.path,
            article.content_hash,
            row,
            len(split.sentences),
        )
        row += len(split.sentences)
    counts = _live_counts(staging / METADATA_FILE)
    report.sentences, report.passages = counts["sentences"], counts["passages"]
    write_manifest(
        staging,
        replace(
            manifest,
            build_id=build_id,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(report.seconds, 3),
            counts=counts,
            articles=articles,
            files=file_sizes(staging),
            tail=tail,
            sources=stamps,
        ),
    )


def _live_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        one = lambda sql: int(connection.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "articles": one("SELECT COUNT(*) FROM articles"),
            "paragraphs": one(
                "SELECT COUNT(*) FROM (SELECT DISTINCT article, paragraph FROM passages)"
            ),
            "passages": one("SELECT COUNT(*) FROM passages"),
            "sentences": one("SELECT COUNT(*) FROM sentences"),
        }
    finally:
        connection.close()
