"""The index folder is Newsdesk's own: marked as such, apart from the seeds, and only its own
builds are ever deleted.

A build replaces ``current`` and deletes superseded build folders. Pointed at a folder that
holds someone's files (the seeds folder, a home directory, ``/``) that would destroy them, so a
build first claims the folder: an absent or empty folder is marked with ``MARKER_FILE``; a
marked one is used; anything else is refused with a line that says what to do. A layout is no
mark: a folder holding ``builds/`` and a ``current`` link may be anyone's (a deploy tool's, a
backup's), so an index built before the marker existed is refused too, saying how to mark it.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from index.errors import IndexFolderError

MARKER_FILE = ".newsdesk-index"
CURRENT_LINK = "current"
BUILDS_FOLDER = "builds"
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".build.lock"  # flock'ed by a build: one build of a folder at a time
# Build folders are named "<UTC time>-<6 hex>"; nothing else under builds/ is ever deleted.
BUILD_NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


def claim_index_folder(index_dir: Path, seeds_dir: Path) -> None:
    """Let a build write (and delete) under ``index_dir``, or raise ``IndexFolderError``.

    Checked before a build loads its model, so a folder it cannot use (someone's, below a
    file, read-only) is one line at once, with nothing written.
    """
    try:
        _claim(index_dir, seeds_dir)
    except (OSError, RuntimeError) as error:  # RuntimeError: a link loop, up to Python 3.12
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise IndexFolderError(
            f"cannot write in the index folder {index_dir} ({reason}); "
            "make it writable, or point the index at a folder that is"
        ) from None


def _claim(index_dir: Path, seeds_dir: Path) -> None:
    index, seeds = index_dir.resolve(), seeds_dir.resolve()
    if index == seeds or index.is_relative_to(seeds) or seeds.is_relative_to(index):
        raise IndexFolderError(
            f"the index folder {index_dir} and the seeds folder {seeds_dir} overlap; "
            "keep the index in a folder of its own, outside the seeds"
        )
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexFolderError(
            f"the index folder {index_dir} is a file, not a folder; "
            "point the index at a new or empty folder"
        )
    blocking = _file_above(index_dir)
    if blocking is not None:
        raise IndexFolderError(
            f"the index folder {index_dir} cannot be made: {blocking} is a file, not a folder; "
            "point the index at a folder"
        )
    if (index_dir / MARKER_FILE).is_file():
        _check_writable(index_dir)
        return
    # A folder holding only a build's lock holds nothing of anyone's.
    if index_dir.is_dir() and any(entry.name != LOCK_FILE for entry in index_dir.iterdir()):
        if _looks_like_an_index(index_dir):
            raise IndexFolderError(
                f"the index folder {index_dir} looks like an index but is not marked as "
                f"Newsdesk's ({MARKER_FILE} is missing), so nothing in it is replaced; if "
                f"Newsdesk built it, create an empty {MARKER_FILE} file in it, otherwise point "
                "the index at a new or empty folder"
            )
        raise IndexFolderError(
            f"the index folder {index_dir} holds files Newsdesk did not make; "
            "point the index at a new or empty folder"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    (index_dir / MARKER_FILE).write_text(
        json.dumps({"newsdesk": "index folder; builds under it are replaced and deleted"}) + "\n",
        encoding="utf-8",
    )


def _check_writable(index_dir: Path) -> None:
    """Raise ``OSError`` now, not after the model and the embedding, when a build could not
    write the lock, its build folder or the ``current`` link. An unnamed temporary file
    (``O_TMPFILE``) tries each folder and leaves nothing behind."""
    for folder in (index_dir, index_dir / BUILDS_FOLDER):
        if folder.is_dir():
            tempfile.TemporaryFile(dir=folder).close()
    (index_dir / LOCK_FILE).open("a").close()


def _file_above(index_dir: Path) -> Path | None:
    """The file in the way when ``index_dir`` lies below one (``notes.txt/index``), else None."""
    for parent in index_dir.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _looks_like_an_index(index_dir: Path) -> bool:
    """Laid out as a built index is (a ``current`` link into ``builds/``): only to choose the
    message, which then says how to mark a folder an older Newsdesk built."""
    link = index_dir / CURRENT_LINK
    try:
        return link.is_symlink() and link.resolve().is_relative_to(
            (index_dir / BUILDS_FOLDER).resolve()
        )
    except (OSError, RuntimeError):  # a link loop (RuntimeError in Python 3.11 and 3.12)
        return False


def is_build_folder(path: Path) -> bool:
    """A finished build folder a build may delete once superseded."""
    return path.is_dir() and not path.is_symlink() and bool(BUILD_NAME.match(path.name))


def is_staging_folder(path: Path) -> bool:
    """A build's unfinished folder, left by a crash."""
    name = path.name
    return (
        path.is_dir()
        and not path.is_symlink()
        and name.startswith(STAGING_PREFIX)
        and bool(BUILD_NAME.match(name[len(STAGING_PREFIX) :]))
    )
