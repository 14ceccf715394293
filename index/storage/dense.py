"""The dense side: a FAISS index over sentence vectors, exact when small, IVF when large.

Vectors are unit length, so the inner product FAISS computes is the cosine similarity. FAISS id
``i`` is row ``i`` of the build's sentence table; FAISS pads missing results with id -1, which
``DenseIndex.search`` drops so that no caller ever indexes a list with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorruptError

# Exact search of 50,000 384-d vectors takes about 4 ms on one core: past that, IVF.
DEFAULT_EXACT_LIMIT = 50_000
# An IVF index keeps its trained lists until it holds this many times the vectors it was trained
# on; past that the lists are too coarse for the data and the build retrains them.
RETRAIN_GROWTH = 2.0


@dataclass(frozen=True)
class DenseParams:
    """The FAISS index kind and its parameters, recorded in the manifest."""

    kind: str  # "flat" (exact) or "ivf"
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def choose_params(count: int, exact_limit: int, nlist: int = 0, nprobe: int = 0) -> DenseParams:
    """Exact search up to ``exact_limit`` vectors; above it IVF sized by the count.

    ``nlist`` is sqrt(n) (so a probe scans lists of about sqrt(n) vectors) and ``nprobe``
    scans 1/64 of them (at least 8), unless given (non-zero). Training uses 64 points a list,
    which keeps k-means to seconds at a million vectors on two cores (``bench scale``
    measures recall against exact).
    """
    if count <= exact_limit:
        return DenseParams("flat")
    nlist = nlist or max(16, min(65_536, int(math.sqrt(count))))
    # k-means wants ~39 training points per centroid; fewer lists than that warn and degrade.
    nlist = min(nlist, max(1, count // 39))
    nprobe = min(nprobe or max(8, nlist // 64), nlist)
    return DenseParams("ivf", nlist=nlist, nprobe=nprobe, trained_on=count)


class DenseIndex:
    """A FAISS index with the parameters it was built with."""

    def __init__(self, index: faiss.Index, params: DenseParams) -> None:
        self.index = index
        self.params = params

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(
        cls, vectors: np.ndarray, params: DenseParams, centroids: np.ndarray | None = None
    ) -> DenseIndex:
        """Build over ``vectors`` (row ``i`` gets id ``i``).

        For IVF, ``centroids`` from an earlier build skip training (an incremental build);
        without them the lists are trained on a sample of ``vectors``.
        """
        dimension = vectors.shape[1]
        if params.kind == "flat":
            index: faiss.Index = faiss.IndexFlatIP(dimension)
        else:
            quantizer = faiss.IndexFlatIP(dimension)
            index = faiss.IndexIVFFlat(
                quantizer, dimension, params.nlist, faiss.METRIC_INNER_PRODUCT
            )
            if centroids is not None:
                quantizer.add(centroids)
                index.is_trained = True
            else:
                index.train(_training_sample(vectors, params.nlist))
            index.nprobe = params.nprobe
        if len(vectors):
            index.add(vectors)
        return cls(index, params)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row; ids of -1 are removed (ragged lists)."""
        if len(queries) == 1 and faiss.omp_get_max_threads() != 1:
            # One question at a time: OpenMP's fan-out costs more than it saves, and its spinning
            # threads fight torch's for the cores. The setting is the calling thread's own
            # (an OpenMP per-thread value), so builds in other threads keep every core.
            faiss.omp_set_num_threads(1)
        if self.count == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self.index.search(queries, min(k, self.count))
        if (ids < 0).any():
            # Only IVF with too few probed vectors pads; keep the kept prefix per row.
            keep = min(int((row >= 0).sum()) for row in ids)
            scores, ids = scores[:, :keep], ids[:, :keep]
        return scores, ids

    def centroids(self) -> np.ndarray | None:
        """The trained IVF list centroids, or None for an exact index."""
        if self.params.kind != "ivf":
            return None
        quantizer = faiss.extract_index_ivf(self.index).quantizer
        return np.ascontiguousarray(quantizer.reconstruct_n(0, quantizer.ntotal), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, params: DenseParams, *, mmap: bool = True) -> DenseIndex:
        """Read the index, memory-mapped where FAISS supports it for this index kind."""
        try:
            flags = faiss.IO_FLAG_MMAP if mmap else 0
            try:
                index = faiss.read_index(str(path), flags)
            except RuntimeError:
                index = faiss.read_index(str(path))
        except RuntimeError as error:
            raise IndexCorruptError(
                f"FAISS file {path} is unreadable ({_last_line(error)})"
            ) from None
        if params.kind == "ivf":
            faiss.extract_index_ivf(index).nprobe = params.nprobe
        return cls(index, params)


def reuse_training(previous: DenseParams, wanted: DenseParams, count: int) -> DenseParams | None:
    """The parameters to keep the previous IVF training with, or None to train afresh.

    Training is kept while both builds are IVF and the index has not outgrown its training by
    ``RETRAIN_GROWTH`` (nor shrunk below it, where fewer lists would fit better).
    """
    if previous.kind != "ivf" or wanted.kind != "ivf" or previous.trained_on <= 0:
        return None
    growth = count / previous.trained_on
    if growth > RETRAIN_GROWTH or growth < 1 / RETRAIN_GROWTH:
        return None
    return previous


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """At most 64 points per list, drawn with a fixed seed so builds are repeatable."""
    limit = 64 * nlist
    if len(vectors) <= limit:
        return vectors
    rows = np.random.default_rng(0).choice(len(vectors), size=limit, replace=False)
    return np.ascontiguousarray(vectors[np.sort(rows)])


def _last_line(error: Exception) -> str:
    """FAISS puts the useful part of its C++ message on the last line."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__
