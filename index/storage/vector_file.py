"""The build's copy of the sentence vectors, written a batch at a time into a ``.npy`` file, and
read back in blocks with plain reads.

A streaming build does not know how many sentences it holds until the last article is read, and
``np.save`` wants the whole array. The file is written with a header for a placeholder row count
and the rows appended; ``finish`` writes the true count over it. numpy pads a header with room
for the first dimension to grow (as when appending), so any count up to 10**15 gives a header
of the same length; ``finish`` checks that it did.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np

_PLACEHOLDER_ROWS = 10**15


def _header(rows: int, dimension: int, dtype: np.dtype) -> bytes:
    described = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {**described, "shape": (rows, dimension)})
    return buffer.getvalue()


class VectorFileWriter:
    """Appends rows of ``dimension`` values, stored as ``dtype``, to a ``.npy`` file."""

    def __init__(self, path: Path, dimension: int, dtype: type[np.generic]) -> None:
        self.path = path
        self.dimension = dimension
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self._handle: BinaryIO | None = path.open("wb")
        self._handle.write(_header(_PLACEHOLDER_ROWS, dimension, self.dtype))

    def append(self, vectors: np.ndarray) -> None:
        """Add ``vectors`` (rows x dimension, any float dtype) after the rows already written."""
        if self._handle is None:
            raise ValueError(f"{self.path} is already finished")
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected rows of {self.dimension} values, got {vectors.shape}")
        self._handle.write(np.ascontiguousarray(vectors, dtype=self.dtype).tobytes())
        self.rows += len(vectors)

    def finish(self) -> None:
        """Write the real row count into the header and close (again: nothing to do)."""
        if self._handle is not None:
            header = _header(self.rows, self.dimension, self.dtype)
            if len(header) != len(_header(_PLACEHOLDER_ROWS, self.dimension, self.dtype)):
                raise ValueError(f"the .npy header of {self.path} changed length")
            self._handle.seek(0)
            self._handle.write(header)
            self._handle.close()
            self._handle = None

    def close(self) -> None:
        """Close without finishing (a failed build removes the file with its staging folder)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class VectorFileReader:
    """The rows of a 2-D ``.npy`` file, read with plain file reads.

    Filling FAISS from a memory map would leave every page of the file mapped and counted in
    the build's resident memory (768 MB a million sentences); read this way, the pages stay
    in the system's cache, which gives them back under pressure.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(handle)
            self.offset = handle.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path} does not hold rows of vectors")
        self.rows, self.dimension = int(shape[0]), int(shape[1])
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return self.rows

    def block(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start`` to ``stop`` (exclusive)."""
        stop = min(stop, self.rows)
        count = max(0, stop - start) * self.dimension
        row_bytes = self.dimension * self.dtype.itemsize
        with self.path.open("rb") as handle:
            handle.seek(self.offset + start * row_bytes)
            values = np.fromfile(handle, dtype=self.dtype, count=count)
        return values.reshape(-1, self.dimension)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (ascending), one read each."""
        row_bytes = self.dimension * self.dtype.itemsize
        taken = np.empty((len(rows), self.dimension), dtype=self.dtype)
        with self.path.open("rb") as handle:
            for number, row in enumerate(rows):
                handle.seek(self.offset + int(row) * row_bytes)
                taken[number] = np.frombuffer(handle.read(row_bytes), dtype=self.dtype)
        return taken
