"""How far a build has got, for a front end to show: articles of a known total, and the stage.

The build streams the seeds a batch at a time, so the number of sentences is known only at the
end; the number of articles is counted up front (a file is one article, a JSON Lines file one a
line: a listing and a count of newlines, no parsing). Within a batch, progress moves with the
sentences embedded, so a display never waits a minute between two steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.corpus.articles import JSONL_SUFFIXES, KNOWN_SUFFIXES, iter_article_files

_COUNT_BLOCK = 1 << 20


@dataclass(frozen=True)
class BuildProgress:
    """One step of a build: ``stage`` in words, articles done of ``articles_total``."""

    stage: str  # "embedding", "tagging", "indexing", "exporting the question encoder", "done"
    articles_done: float
    articles_total: int
    sentences: int  # sentences read so far


ProgressCallback = Callable[[BuildProgress], None]


def count_articles(folder: Path) -> int:
    """About how many articles ``folder`` holds, without reading them as articles."""
    total = 0
    for path in iter_article_files(folder):
        suffix = path.suffix.lower()
        if suffix not in KNOWN_SUFFIXES:
            continue
        if suffix not in JSONL_SUFFIXES:
            total += 1
            continue
        try:
            with path.open("rb") as handle:
                while block := handle.read(_COUNT_BLOCK):
                    total += block.count(b"\n")
        except OSError:
            continue
    return max(total, 1)


class ProgressTracker:
    """Turns the build's steps into ``BuildProgress`` calls of one callback."""

    def __init__(self, callback: ProgressCallback, articles_total: int) -> None:
        self._callback = callback
        self._total = articles_total
        self._done = 0
        self._sentences = 0

    def within_batch(self, articles: int, fraction: float, stage: str = "embedding") -> None:
        """``fraction`` of the current batch of ``articles`` articles is through ``stage``."""
        self._tell(stage, self._done + articles * min(max(fraction, 0.0), 1.0))

    def batch_done(self, articles: int, sentences: int) -> None:
        self._done += articles
        self._sentences += sentences
        self._tell("embedding", self._done)

    def stage(self, name: str) -> None:
        """A step after the articles are read (the lists, the encoder export): all read."""
        self._total = max(self._done, 1)
        self._tell(name, self._total)

    def _tell(self, stage: str, done: float) -> None:
        total = max(self._total, int(done) if done > self._total else self._total)
        self._callback(BuildProgress(stage, done, total, self._sentences))
