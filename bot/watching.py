"""Watching the seeds folder: new, changed and removed articles answered without a restart.

Every ``WATCH_SECONDS`` the front end compares the seed files' (size, mtime) stamps with those
the live index was built from, a listing of the folder and no reading; when they differ it
updates the index (through its tail: seconds) while questions go on being answered from the
index as it was, then swaps the new one in. A build made by another process on the same index
folder (``newsdesk index watch``) is picked up the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.engine import Engine
from bot.reports import plural
from index.errors import BuildInProgressError, NewsdeskError
from index.indexing.builder import BuildReport, seed_stamps

logger = logging.getLogger(__name__)

Stamps = dict[str, tuple[int, int]]


def change_line(report: BuildReport) -> str | None:
    """ "2 articles added, 1 changed", or None when the update changed no article."""
    counts = [
        (len(report.added), "added"),
        (len(report.changed), "changed"),
        (len(report.removed), "removed"),
    ]
    parts = [(count, word) for count, word in counts if count]
    if not parts:
        return None
    (count, word), *rest = parts
    return ", ".join([f"{plural(count, 'article')} {word}", *(f"{n} {w}" for n, w in rest)])


class SeedsWatch:
    """The seed files' stamps the live index was last brought up to."""

    def __init__(self, seeds_dir: Path, built_from: Stamps) -> None:
        self.seeds_dir = seeds_dir
        # An index from before stamps were kept: the first look updates it once, to be sure.
        self._last: Stamps | None = built_from or None

    def changed(self) -> Stamps | None:
        """The folder's stamps now, when they differ from the last seen; else None."""
        stamps = seed_stamps(self.seeds_dir) if self.seeds_dir.is_dir() else {}
        return stamps if stamps != self._last else None

    def seen(self, stamps: Stamps) -> None:
        self._last = stamps


def update_once(
    engine: Engine, watch: SeedsWatch, should_stop: Callable[[], bool] | None = None
) -> BuildReport | None:
    """Bring ``engine`` up to the seeds folder if it changed, or to a build made elsewhere.

    Returns the update's report, or None when the folder had not changed. Raises what a build
    raises; ``BuildInProgressError`` (another process is building) is left for the next look.
    """
    stamps = watch.changed()
    if stamps is None:
        engine.follow_live()
        return None
    try:
        report = engine.reindex(should_stop=should_stop)
    except BuildInProgressError:
        return None  # another process builds it: its build is picked up at a later look
    watch.seen(stamps)  # stamped before the update read the files: later changes show next time
    return report


class WatchThread(threading.Thread):
    """The watch of the console and of ``newsdesk index watch``: a daemon thread that looks
    every ``seconds`` and tells ``note`` of each update ("2 articles added") or failure."""

    def __init__(self, engine: Engine, seconds: float, note: Callable[[str], None]) -> None:
        super().__init__(name="newsdesk-watch", daemon=True)
        self.engine = engine
        self.seconds = seconds
        self.note = note
        self.watch = SeedsWatch(engine.setup.seeds_dir, engine.store.manifest.sources)
        self._stop = threading.Event()
        self._last_error: str | None = None

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Look at once (the folder may have changed while nothing watched), then every
        ``seconds`` until stopped."""
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self.seconds)

    def look(self) -> None:
        """One look at the folder (the thread's loop; tests call it directly)."""
        try:
            report = update_once(self.engine, self.watch, self._stop.is_set)
        except Exception as error:  # the watch outlives any one failed update
            if not isinstance(error, NewsdeskError | OSError):
                logger.exception("the watch's update failed")
            line = f"the index could not be updated: {error}"
            if line != self._last_error:  # said once, not every minute
                logger.warning("%s", line)
                self.note(line)
            self._last_error = line
            return
        self._last_error = None
        changed = change_line(report) if report is not None else None
        if changed is not None:
            self.note(changed)
