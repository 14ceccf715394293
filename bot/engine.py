"""The answering engine the front ends share: the model, the live index, and ``ask``.

Loaded once per process. ``ask`` is safe to call from several threads at once; ``reindex``
builds a new index and swaps it in while questions keep being answered from the old one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Settings
from bot.runtime import build_from_settings, embedder_from_settings
from index.answering.answer import Answer, answer_question
from index.answering.model import AnswerModel, load_answer_model
from index.builder import BuildReport
from index.embedder import Embedder, ModelInfo
from index.entities import EntityTagger
from index.errors import IndexMismatchError, IndexMissingError
from index.manifest import check_compatible
from index.metadata import ArticleRecord
from index.search import Searcher
from index.store import IndexStore, open_index


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
    """One model and one live index behind ``ask``."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: IndexStore,
        answer_model: AnswerModel | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.answer_model = answer_model or load_answer_model()
        embedder.warm_up()
        self._searcher = Searcher(store, embedder)
        self._build_lock = threading.Lock()
        self._retired: IndexStore | None = None  # the store a reindex replaced, closed at the next
        self._started = time.monotonic()
        self._questions = 0
        self._count_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        settings: Settings,
        *,
        build_missing: bool = False,
        on_build: Callable[[str], None] | None = None,
        embedder: Embedder | None = None,
    ) -> Engine:
        """Load the model and the index; with ``build_missing``, build the index first if absent.

        ``embedder``, when given, is used instead of loading the model again (a second engine
        in one process, as the tests and benchmarks make).

        The index is opened and checked (manifest, model name, file sizes, counts) before the
        slow model load, so a damaged or mismatched index fails fast; the model's fingerprint
        is checked after it. A damaged index raises and is never rebuilt or answered from here.
        """
        answer_model = load_answer_model()
        store: IndexStore | None
        why = f"No index in {settings.index_dir} yet: building it from {settings.seeds_dir} first."
        try:
            store = _open(settings, None)
            if store.manifest.answer_model != answer_model.fingerprint:
                store.close()
                if not build_missing:
                    raise IndexMismatchError(
                        f"the index in {settings.index_dir} was built for another answer model "
                        "(Newsdesk was updated); update it with: newsdesk index build"
                    )
                why = "The answer model has changed: updating the index first."
                store = None
        except IndexMissingError:
            if not build_missing:
                raise
            store = None
        embedder = embedder or embedder_from_settings(settings)
        if store is None:
            if on_build is not None:
                on_build(why)
            build_from_settings(settings, embedder=embedder)
            return cls(settings, embedder, _open(settings, embedder.info), answer_model)
        try:
            check_compatible(
                store.manifest,
                embedder.info,
                settings.embedding_model,
                settings.chunking,
                tagger=EntityTagger().info,
                folder=store.folder,
            )
        except IndexMismatchError:
            store.close()
            raise
        return cls(settings, embedder, store, answer_model)

    @property
    def store(self) -> IndexStore:
        return self._searcher.store

    def ask(self, question: str, k: int = 10) -> Answer:
        """Answer one question (blocking: run it in a thread from async code)."""
        searcher = self._searcher  # one consistent index for the whole question
        answer, _ = answer_question(searcher, self.answer_model, question, k)
        with self._count_lock:  # asked from several threads at once by the bot
            self._questions += 1
        return answer

    def articles(self) -> list[ArticleRecord]:
        return self.store.metadata.articles()

    def reindex(self, *, full: bool = False) -> BuildReport:
        """Rebuild from the seeds and swap the new index in; questions go on meanwhile."""
        with self._build_lock:
            report = build_from_settings(self.settings, full=full, embedder=self.embedder)
            previous = self._searcher.store
            self._searcher = Searcher(_open(self.settings, self.embedder.info), self.embedder)
            # A question that began before the swap may still read the previous store, so it is
            # closed one reindex later (questions take milliseconds, reindexes minutes).
            if self._retired is not None:
                self._retired.close()
            self._retired = previous
        return report

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


def _open(settings: Settings, model: ModelInfo | None) -> IndexStore:
    """The live index; with ``model`` None, everything but the model's fingerprint is checked."""
    return open_index(
        settings.index_dir,
        model_name=settings.embedding_model,
        chunking=settings.chunking,
        model=model,
    )
