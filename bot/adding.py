"""Handing Newsdesk an article: a file or a text saved into the seeds folder, then indexed.

Used by ``newsdesk index add FILE...`` and the bot's ``/add``. A name comes from a person (an
upload's file name, a path typed at a shell), so it is cut down to letters, digits, ``.``,
``_`` and ``-`` with a kind Newsdesk reads, kept short, and never reaches outside the folder.
An article is written to a hidden temporary file (builds skip hidden files) and linked to its
name only when whole, with ``O_EXCL`` semantics: an article is never seen half-written and
never replaces another file.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from bot.engine import Engine
from index.corpus.articles import KNOWN_SUFFIXES
from index.errors import NewsdeskError

MAX_NAME_CHARS = 80
MAX_COPIES = 1000  # "story-2.txt" .. "story-1000.txt" before giving up on a name
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class AddError(NewsdeskError):
    """An article could not be added: an unknown kind, too large, or the folder not writable."""


@dataclass(frozen=True)
class Added:
    """An article now in the index: its title and its number of sentences."""

    title: str
    sentences: int

    def line(self) -> str:
        return f"added: {self.title}, {self.sentences} sentences"


def safe_name(name: str, default_suffix: str = ".txt") -> str:
    """A file name for ``name`` that is safe in the seeds folder ("../../x y.TXT" -> "x-y.txt")."""
    base = PureWindowsPath(PurePosixPath(name).name).name  # no folder, from either kind of path
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in KNOWN_SUFFIXES:
        stem, suffix = base, default_suffix.lstrip(".")
    stem = _UNSAFE.sub("-", stem).strip(".-_")[: MAX_NAME_CHARS - len(suffix) - 1] or "article"
    return f"{stem}.{suffix.lower()}"


def save_article(seeds_dir: Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write ``data`` into ``seeds_dir`` under ``safe_name(name)`` (or "-2", "-3" ... beside
    it); returns the file. Raises ``AddError`` for an unknown kind or a file over ``max_bytes``.
    """
    if len(data) > max_bytes:
        raise AddError(
            f"{safe_name(name)} is {len(data) / 2**20:.1f} MB; an article may be at most "
            f"{max_bytes / 2**20:.0f} MB"
        )
    suffix = PurePosixPath(PureWindowsPath(name).name).suffix.lower()
    if suffix and suffix not in KNOWN_SUFFIXES:
        raise AddError(f"{safe_name(name)}: only .txt, .md, .html and .jsonl articles are read")
    chosen = safe_name(name)
    temporary = seeds_dir / f".adding-{secrets.token_hex(6)}"
    try:
        seeds_dir.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        stem, suffix = chosen.rsplit(".", 1)
        for number in range(1, MAX_COPIES + 1):
            target = seeds_dir / (chosen if number == 1 else f"{stem}-{number}.{suffix}")
            try:
                os.link(temporary, target)  # fails if the name is taken: nothing is replaced
            except FileExistsError:
                if _same_bytes(target, data):
                    return target  # handed over again (a retried upload): kept once
                continue
            return target
    except OSError as error:
        raise AddError(f"cannot write into {seeds_dir} ({error.strerror or error})") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    raise AddError(f"too many files named like {chosen} in {seeds_dir}")


def text_article(text: str) -> tuple[str, bytes]:
    """A forwarded or typed message as a .txt article (its first line is the title), and a
    file name made from that title."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    title = lines[0] if lines else "article"
    return safe_name(f"{title[:60]}.txt"), ("\n".join(lines) + "\n").encode("utf-8")


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def index_added(
    engine: Engine, files: list[Path], should_stop: Callable[[], bool] | None = None
) -> tuple[list[Added], list[str]]:
    """Update the index now; what each of ``files`` added, and why the others added nothing.

    A file that holds no readable article is removed again (its reason is returned), so the
    seeds folder keeps no file that every build would skip. Raises what a build raises; the
    files then stay, for the next update (the watch's, or another ``add``).
    """
    report = engine.reindex(should_stop=should_stop)
    names = {file.relative_to(engine.setup.seeds_dir).as_posix(): file for file in files}
    added = [
        Added(entry.title, entry.sentence_count)
        for entry in engine.store.manifest.articles.values()
        if entry.path in names
    ]
    found = {entry.path for entry in engine.store.manifest.articles.values()}
    problems = [str(skip) for skip in report.skipped if skip.path in names]
    for name, file in names.items():
        if name not in found:
            with contextlib.suppress(OSError):
                file.unlink()
            if not any(problem.startswith(f"skipped {name}:") for problem in problems):
                problems.append(f"skipped {name}: no article in it")
    return added, problems
