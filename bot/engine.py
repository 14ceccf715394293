"""The answering engine the front ends share: the model, the live index, and ``ask``.

Loaded once per process, without torch: questions are encoded by the index's ONNX encoder,
and the sentence-transformers model is loaded only to build. ``ask`` is safe to call from
several threads at once; ``reindex`` builds a new index and swaps it in while questions keep
being answered from the old one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.config import IndexSetup
from bot.runtime import (
    build_setup,
    check_build_folders,
    import_lightgbm_without_sklearn,
    load_build_embedder,
)
from index.analysis.embedder import Embedder, model_fingerprint
from index.analysis.entities import EntityTagger
from index.answering.answer import answer_question
from index.answering.language import REFUSAL, is_english
from index.answering.model import AnswerModel, load_answer_model
from index.answering.quotes import Quote, quotes_by
from index.answering.results import Answer, refused_answer
from index.errors import (
    BuildCancelledError,
    IndexMismatchError,
    IndexMissingError,
    NewsdeskError,
    Remedy,
)
from index.indexing.builder import BuildReport
from index.indexing.progress import BuildProgress, ProgressCallback
from index.search.searcher import Searcher
from index.storage.manifest import check_compatible
from index.storage.metadata import ArticleRecord
from index.storage.store import IndexStore, current_build, open_index

# A store swapped out is closed this long after (at a later swap): a question that began on it
# may still be reading it; questions take milliseconds, this leaves room for the slowest.
RETIRED_SECONDS = 60.0


@dataclass(frozen=True)
class EngineStats:
    articles: int
    sentences: int
    passages: int
    model: str
    build_id: str
    questions: int
    uptime_seconds: float


class Engine:
    """The live index behind ``ask``, and the model only when a build needs it."""

    def __init__(
        self,
        setup: IndexSetup,
        embedder: Embedder | None,
        store: IndexStore,
        answer_model: AnswerModel | None = None,
    ) -> None:
        self.setup = setup
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self.answer_model = answer_model or load_answer_model()
        self._query_threads = store.query_encoder.threads if store.query_encoder else 1
        self._searcher = Searcher(store)  # questions go through the index's ONNX encoder
        self._build_lock = threading.Lock()
        self._tagger = EntityTagger()  # spaCy, loaded by the first update that needs it
        # Stores swapped out, with when: each is closed a while later, when no question can still
        # be reading it (updates through the tail come a second apart, questions last ms).
        self._retired: list[tuple[float, IndexStore]] = []
        self._started = time.monotonic()
        self._questions = 0
        self._count_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        setup: IndexSetup,
        *,
        build_missing: bool = False,
        on_build: Callable[[str], None] | None = None,
        embedder: Embedder | None = None,
        query_threads: int = 1,
    ) -> Engine:
        """Load the index; with ``build_missing``, build or update it first when it must be.

        Questions need no model: the index carries its ONNX question encoder (run on
        ``query_threads`` threads), so torch and sentence-transformers are imported only when
        this has to build: no index yet, an index for another answer model, or one built
        before there was a question encoder (updated without re-embedding). ``on_build`` is
        told why first. ``embedder``, when given, is used for building instead of loading the
        model (a second engine in one process, as the tests and benchmarks make).

        The model's files are checked against the index by their fingerprint, without loading
        them. A damaged or mismatched index raises and is never rebuilt or answered from here.
        """
        import_lightgbm_without_sklearn()
        answer_model = load_answer_model()
        fingerprint = embedder.info.fingerprint if embedder else None
        said: str | None = None  # why this builds first, for on_build
        try:
            store = _open(setup, fingerprint, query_threads)
            update = _why_update(store, answer_model)
            if update is not None:
                store.close()
                if not build_missing:
                    raise IndexMismatchError(
                        f"the index in {setup.index_dir} {update[0]}", remedy=Remedy.UPDATE
                    )
                said = update[1]
        except IndexMissingError:
            if not build_missing:
                raise
            said = f"No index in {setup.index_dir} yet: building it from {setup.seeds_dir} first."
        if said is not None:
            check_build_folders(setup)
            if on_build is not None:
                on_build(said)
            embedder = embedder or load_build_embedder(setup)
            build_setup(setup, embedder=embedder, say=on_build, tail=False)
            store = _open(setup, embedder.info.fingerprint, query_threads)
        try:
            check_compatible(
                store.manifest,
                None,
                setup.model_name,
                setup.chunking,
                tagger=EntityTagger().info,
                folder=store.folder,
            )
        except IndexMismatchError:
            store.close()
            raise
        return cls(setup, embedder, store, answer_model)

    @property
    def embedder(self) -> Embedder:
        """The sentence-transformers model, loaded on first use: only builds need it."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_build_embedder(self.setup)
            return self._embedder

    @property
    def store(self) -> IndexStore:
        return self._searcher.store

    def ask(
        self,
        question: str,
        k: int = 10,
        *,
        since: date | None = None,
        until: date | None = None,
    ) -> Answer:
        """Answer one question (blocking: run it in a thread from async code).

        ``since``/``until`` (inclusive) keep the answer to articles, or events, of those days.
        A question not in English is not searched: its answer's ``refusal`` says so.
        """
        if not is_english(question):
            answer = refused_answer(question.strip(), REFUSAL)
        else:
            searcher = self._searcher  # one consistent index for the whole question
            answer, _ = answer_question(
                searcher, self.answer_model, question, k, since=since, until=until
            )
        with self._count_lock:  # asked from several threads at once by the bot
            self._questions += 1
        return answer

    def quotes(self, name: str) -> list[Quote]:
        """Every statement by ``name`` (aliases included) with its source, newest first."""
        return quotes_by(self.store.metadata, name)

    def articles(self) -> list[ArticleRecord]:
        return self.store.metadata.articles()

    def reindex(
        self, *, full: bool = False, should_stop: Callable[[], bool] | None = None
    ) -> BuildReport:
        """Rebuild from the seeds and swap the new index in; questions go on meanwhile.

        ``should_stop`` is asked at every step of the build: once it says yes, the build stops
        (``BuildCancelledError``) and the live index stays as it was.
        """
        with self._build_lock:
            report = build_setup(
                self.setup,
                full=full,
                embedder=self._embedder,  # None: new articles go through the question encoder
                progress=_stopper(should_stop),
                tagger=self._tagger,
                load=lambda: self.embedder,
                query_encoder=self.store.query_encoder,
            )
            if report.folder == self.store.folder:
                return report  # nothing changed: the live index stands
            self._swap_in()
        return report

    def follow_live(self) -> bool:
        """Answer from the index folder's live build if another process has made a new one
        (``newsdesk index watch``); returns whether it changed."""
        with self._build_lock:
            try:
                live = current_build(self.setup.index_dir)
            except NewsdeskError:
                return False
            if live == self.store.folder:
                return False
            self._swap_in()
            return True

    def _swap_in(self) -> None:
        """Open the live build and answer from it; called under the build lock."""
        previous = self._searcher.store
        fingerprint = self._embedder.info.fingerprint if self._embedder else None
        store = _open(self.setup, fingerprint, self._query_threads)
        self._searcher = Searcher(store)
        now = time.monotonic()
        keep = [(when, old) for when, old in self._retired if now - when < RETIRED_SECONDS]
        for when, old in self._retired:
            if now - when >= RETIRED_SECONDS:
                old.close()
        self._retired = [*keep, (now, previous)]

    def stats(self) -> EngineStats:
        manifest = self.store.manifest
        return EngineStats(
            articles=manifest.counts["articles"],
            sentences=manifest.counts["sentences"],
            passages=manifest.counts["passages"],
            model=manifest.model.name,
            build_id=manifest.build_id,
            questions=self._questions,
            uptime_seconds=time.monotonic() - self._started,
        )


def _open(setup: IndexSetup, fingerprint: str | None, query_threads: int) -> IndexStore:
    """The live index, checked against the model's files (read, not loaded, when not given)."""
    return open_index(
        setup.index_dir,
        model_name=setup.model_name,
        chunking=setup.chunking,
        model_fingerprint=fingerprint or model_fingerprint(setup.model_name),
        query_threads=query_threads,
        milvus=setup.build.milvus,
    )


def _why_update(store: IndexStore, answer_model: AnswerModel) -> tuple[str, str] | None:
    """Why a whole, matching index must be updated by a build before it answers, if it must.

    The reason twice: as the end of an error sentence, and as what to say before building.
    """
    if store.manifest.answer_model != answer_model.fingerprint:
        return (
            "was built for another answer model (Newsdesk was updated)",
            "The answer model has changed: updating the index first.",
        )
    if not store.metadata.has_statements:
        return (
            "has no statements by speaker (built by an older Newsdesk)",
            "The index has no statements by speaker (built by an older Newsdesk): updating it.",
        )
    if store.query_encoder is None:
        return (
            "has no question encoder (built by an older Newsdesk)",
            "The index has no question encoder (built by an older Newsdesk): updating it first.",
        )
    if not store.metadata.has_event_dates:
        return (
            "has no event dates (built by an older Newsdesk)",
            "The index has no event dates (built by an older Newsdesk): updating it first.",
        )
    return None


def _stopper(should_stop: Callable[[], bool] | None) -> ProgressCallback | None:
    """A progress callback that stops the build once ``should_stop`` says so (not after the
    swap: a finished build is kept)."""
    if should_stop is None:
        return None

    def check(progress: BuildProgress) -> None:
        if progress.stage != "done" and should_stop():
            raise BuildCancelledError("the reindex was stopped; the index is unchanged")

    return check
