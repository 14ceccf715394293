"""One progress display for a whole build: a bar on a terminal, a line every few seconds else.

The library reports ``BuildProgress`` steps (articles of a total counted up front, the stage);
this turns them into what a person watching reads: one tqdm bar in articles for the whole
build, with the stage and the sentences so far beside it, or, in a log file or under systemd,
"embedding: 560 of 1,848 articles, 10,240 sentences, about 2 min left" every ``LINE_SECONDS``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from index.indexing.progress import BuildProgress

LINE_SECONDS = 5.0


class BuildDisplay:
    """Call it with each ``BuildProgress``; ``close`` when the build has ended either way."""

    def __init__(self, terminal: bool, stream: TextIO | None = None) -> None:
        self.terminal = terminal
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._started = time.monotonic()
        self._last_line = 0.0

    def __call__(self, step: BuildProgress) -> None:
        if self.terminal:
            self._draw(step)
        elif step.stage == "done" or time.monotonic() - self._last_line >= LINE_SECONDS:
            self._last_line = time.monotonic()
            print(self.line(step), file=self.stream, flush=True)

    def line(self, step: BuildProgress) -> str:
        """The progress as one line of words."""
        if step.stage == "done":
            return (
                f"done: {_count(step.articles_total, 'article')}, "
                f"{_count(step.sentences, 'sentence')} "
                f"in {_duration(time.monotonic() - self._started)}"
            )
        left = self._left(step)
        return (
            f"{step.stage}: {int(step.articles_done):,} of {step.articles_total:,} articles, "
            f"{step.sentences:,} sentences" + (f", about {left} left" if left else "")
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _draw(self, step: BuildProgress) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=step.articles_total, unit="article", file=self.stream, dynamic_ncols=True
            )
        self._bar.total = step.articles_total
        self._bar.n = min(step.articles_done, step.articles_total)
        self._bar.set_description(step.stage, refresh=False)
        self._bar.set_postfix_str(f"{step.sentences:,} sentences", refresh=False)
        self._bar.refresh()
        if step.stage == "done":
            self.close()

    def _left(self, step: BuildProgress) -> str | None:
        elapsed = time.monotonic() - self._started
        if step.articles_done <= 0 or elapsed < 1:
            return None
        rate = step.articles_done / elapsed
        return _duration((step.articles_total - step.articles_done) / rate)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min"
