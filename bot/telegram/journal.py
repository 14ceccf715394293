"""The updates the bot has taken from Telegram, kept on disk until they are answered.

Telegram forgets an update once the bot acknowledges it (the next ``getUpdates`` offset, or the
webhook's 200), so an update acknowledged but not yet answered lived only in memory: a SIGKILL
lost it, and after a restart an update Telegram delivered again was answered twice. The journal
is an append-only JSON Lines file beside the index: ``{"taken": update}`` when an update is
queued, ``{"done": id}`` once it is answered (or deliberately dropped). At start the taken but
not done ones are answered first, and every id in the file is known, so a re-delivery is
skipped. ``sync`` (an fsync) runs before each acknowledgement; appends go straight to the file
(``os.write``), so they survive the process being killed even between syncs.

The file is rewritten (atomically) with only what is still needed once it grows past
``COMPACT_AFTER`` lines. A line torn by a crash is skipped when read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

JOURNAL_FILE = "telegram-updates.jsonl"
REMEMBERED_IDS = 10_000  # answered ids kept to skip re-deliveries
# Telegram re-delivers within 24 hours, and numbers updates afresh (at random) only after a
# week without any: an id older than this is forgotten, so a new update never looks answered.
FORGET_AFTER_SECONDS = 2 * 24 * 3600
COMPACT_AFTER = 50_000  # lines written before the file is rewritten with what is still needed


class UpdateJournal:
    """Taken and answered update ids, in memory and (with a ``path``) on disk.

    Without a path (or when the file cannot be written) it still skips re-deliveries within
    one run, as the webhook always did, and says once in the log that restarts may lose updates.
    """

    def __init__(self, path: Path | None = None, remembered: int = REMEMBERED_IDS) -> None:
        self.path = path
        self.remembered = remembered
        self._pending: dict[int, dict[str, Any]] = {}  # taken, not yet done: replayed at start
        self._done: OrderedDict[int, float] = OrderedDict()  # id -> when it was done
        self._fd: int | None = None
        self._lock: int | None = None
        self._lines = 0
        self._fd_lock = threading.Lock()  # sync (a worker thread) against compaction
        if path is not None:
            self._open(path)

    @property
    def durable(self) -> bool:
        return self._fd is not None

    def pending(self) -> list[dict[str, Any]]:
        """Updates taken in an earlier run and never answered, oldest first."""
        return [self._pending[update_id] for update_id in sorted(self._pending)]

    def known(self, update_id: int) -> bool:
        """Whether ``update_id`` was taken before (answered or still waiting)."""
        return update_id in self._pending or update_id in self._done

    def taken(self, update_id: int, update: dict[str, Any]) -> None:
        """Remember ``update`` as queued; on disk before the next ``sync`` acknowledges it."""
        self._pending[update_id] = update
        self._append({"taken": update})

    def done(self, update_id: int) -> None:
        """``update_id`` is answered (or dropped on purpose): never answer it again."""
        self._pending.pop(update_id, None)
        now = time.time()
        self._done[update_id] = now
        self._done.move_to_end(update_id)
        while len(self._done) > self.remembered:
            self._done.popitem(last=False)
        self._append({"done": update_id, "at": round(now)})

    def sync(self) -> None:
        """Make what was appended durable: called before Telegram is told it was received.

        Runs in a worker thread while the event loop appends; the lock keeps a compaction
        from swapping the file under it.
        """
        with self._fd_lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as error:
                    self._give_up(error)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as error:
            self._give_up(error)
            return
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            logger.warning(
                "another bot keeps %s; updates taken by this one are not kept across restarts",
                path,
            )
            return
        self._lock = lock  # held while the bot runs; the kernel lets go if it is killed
        try:
            self._read(path)
            self._rewrite(path)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            self._give_up(error)

    def _read(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        for line in raw.splitlines():
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue  # a line torn by a crash, or not ours
            if not isinstance(record, dict):
                continue
            taken, done = record.get("taken"), record.get("done")
            if isinstance(taken, dict) and isinstance(taken.get("update_id"), int):
                if taken["update_id"] not in self._done:
                    self._pending[taken["update_id"]] = taken
            elif isinstance(done, int) and not isinstance(done, bool):
                self._pending.pop(done, None)
                at = record.get("at")
                if isinstance(at, int | float) and time.time() - at < FORGET_AFTER_SECONDS:
                    self._done[done] = float(at)
        while len(self._done) > self.remembered:
            self._done.popitem(last=False)

    def _rewrite(self, path: Path) -> None:
        """Replace the file, atomically, with the waiting updates and the remembered ids."""
        records: list[dict[str, Any]] = [
            {"done": update_id, "at": round(at)} for update_id, at in self._done.items()
        ]
        records += [{"taken": update} for update in self.pending()]
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
        self._lines = len(records)

    def _append(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            return
        line = (json.dumps(record) + "\n").encode("utf-8")
        try:
            os.write(self._fd, line)  # one write of a whole line: O_APPEND keeps it whole
        except OSError as error:
            self._give_up(error)
            return
        self._lines += 1
        if self._lines > COMPACT_AFTER and self.path is not None:
            self._compact(self.path)

    def _compact(self, path: Path) -> None:
        with self._fd_lock:
            try:
                self._rewrite(path)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND, 0o600)
            except OSError as error:
                self._give_up(error)
                return
            if self._fd is not None:
                os.close(self._fd)
            self._fd = fd

    def _give_up(self, error: OSError) -> None:
        """Go on answering without the file: losing durability beats losing the bot."""
        logger.warning(
            "cannot keep the update journal %s (%s); updates taken are not kept across restarts",
            self.path,
            error,
        )
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
