"""The index folder is Newsdesk's own: marked as such, apart from the seeds, and only its own
builds are ever deleted.

A build replaces ``current`` and deletes superseded build folders. Pointed at a folder that
holds someone's files (the seeds folder, a home directory, ``/``) that would destroy them, so a
build first claims the folder: an absent or empty folder is marked with ``MARKER_FILE``; a
marked one, or one laid out as an index built before the marker existed, is used; anything
else is refused with a line that says what to do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from index.errors import IndexFolderError

MARKER_FILE = ".newsdesk-index"
CURRENT_LINK = "current"
BUILDS_FOLDER = "builds"
STAGING_PREFIX = ".staging-"
# Build folders are named "<UTC time>-<6 hex>"; nothing else under builds/ is ever deleted.
BUILD_NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")
# What an index folder made before the marker holds at its top level (and the front ends'
# feedback log, which lives beside the builds so that rebuilds keep it).
_LEGACY_ENTRIES = re.compile(
    r"^(?:current|builds|\.build\.lock|\.current-.+|feedback\.jsonl(?:\.lock)?|\.feedback\..+)$"
)


def claim_index_folder(index_dir: Path, seeds_dir: Path) -> None:
    """Let a build write (and delete) under ``index_dir``, or raise ``IndexFolderError``."""
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
    if (index_dir / MARKER_FILE).is_file():
        return
    if index_dir.is_dir() and any(index_dir.iterdir()) and not _is_unmarked_index(index_dir):
        raise IndexFolderError(
            f"the index folder {index_dir} holds files Newsdesk did not make; "
            "point the index at a new or empty folder"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    (index_dir / MARKER_FILE).write_text(
        json.dumps({"newsdesk": "index folder; builds under it are replaced and deleted"}) + "\n",
        encoding="utf-8",
    )


def _is_unmarked_index(index_dir: Path) -> bool:
    """An index built before the marker: only ``current`` (a link into builds/), builds/ and
    the build lock; or what a build leaves before its first swap (the lock, builds/)."""
    if not all(_LEGACY_ENTRIES.match(entry.name) for entry in index_dir.iterdir()):
        return False
    link = index_dir / CURRENT_LINK
    if not link.is_symlink():
        return not link.exists()  # a file or folder named "current" is someone's
    return link.resolve().is_relative_to((index_dir / BUILDS_FOLDER).resolve())


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
