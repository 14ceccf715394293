"""Making a written build live: fsync it, swap the ``current`` link atomically, drop the old.

A power loss at any point leaves either the old build or the new one live, whole."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from index.errors import (
    IndexFolderError,
)
from index.storage.folder import (
    CURRENT_LINK,
    is_build_folder,
)


def swap_current(index_dir: Path, build: Path) -> None:
    """Point ``current`` at ``build`` with one atomic rename of a fresh symlink."""
    link = index_dir / CURRENT_LINK
    if link.exists() and not link.is_symlink():
        raise IndexFolderError(
            f"{link} is not the link Newsdesk made; move it away and build again"
        )
    temporary = index_dir / f".{CURRENT_LINK}-{build.name}"
    temporary.unlink(missing_ok=True)
    os.symlink(build.relative_to(index_dir), temporary)
    try:
        os.replace(temporary, index_dir / CURRENT_LINK)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sync_tree(folder: Path) -> None:
    """fsync every file under ``folder`` and every folder in it, deepest first."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            sync_folder(path)
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names in it (a rename, a new link) are on disk too."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_old_builds(builds: Path, keep: Path) -> None:
    """Delete superseded builds; open readers keep their files until they close them (POSIX)."""
    for folder in builds.iterdir():
        if folder != keep and is_build_folder(folder):
            shutil.rmtree(folder, ignore_errors=True)
