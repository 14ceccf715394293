"""Files of lines that never hold half a line: the file mechanics under the feedback log.

A line goes out in one ``os.write`` and is taken back if it did not go out whole (a full disk
writes part of it, then fails), and a torn last line left by a crash is mended or cut before the
next one, so one failed write never swallows the line after it. Rewrites and new files go to a
temporary file renamed over the old one, so a crash leaves either the old file or the new.
Callers hold their own lock: nothing here guards against two writers at once.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

_CHUNK = 65536  # bytes read at a time, backwards, looking for the last newline


def append_line(path: Path, line: bytes, whole: Callable[[bytes], bool]) -> None:
    """Append ``line`` (ending in a newline) whole, or raise ``OSError`` leaving nothing of it.

    A last line without its newline is ended when ``whole(line)`` says it is complete (an
    editor's save), and cut otherwise (a write cut short by a crash).
    """
    handle = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        size = _mend_tail(handle, whole)
        try:
            if os.write(handle, line) != len(line):  # cut short: the disk filled up
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            with suppress(OSError):  # if this fails too, the next append cuts the torn line
                os.ftruncate(handle, size)
            raise
    finally:
        os.close(handle)


def _mend_tail(handle: int, whole: Callable[[bytes], bool]) -> int:
    """End the file at a whole line; returns its size."""
    size = os.fstat(handle).st_size
    if size == 0 or os.pread(handle, 1, size - 1) == b"\n":
        return size
    start = size
    while start > 0:  # back to the byte after the last newline
        begin = max(0, start - _CHUNK)
        newline = os.pread(handle, start - begin, begin).rfind(b"\n")
        if newline >= 0:
            start = begin + newline + 1
            break
        start = begin
    if not whole(os.pread(handle, size - start, start)):
        os.ftruncate(handle, start)
        return start
    if os.write(handle, b"\n") != 1:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return size + 1


def replace_lines(path: Path, lines: Iterable[bytes]) -> None:
    """Rewrite ``path`` as ``lines``, whole or not at all; raises ``OSError`` (old file kept).

    The temporary file has one name, so one a killed rewrite left is reused and renamed away;
    those older versions named by process id (``.NAME.PID.tmp``) are deleted.
    """
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with temporary.open("wb") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (mode 0600), whole or not at all."""
    temporary = path.with_name(path.name + ".tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(handle, 0o600)  # a temporary file left by a crash keeps its old mode
        if os.write(handle, data) != len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temporary, path)
