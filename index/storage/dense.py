"""The dense side: a FAISS index over sentence vectors, exact when small, IVF when large, and
IVF with 6-bit scalar quantization (under a fifth of the bytes) when very large.

Vectors are unit length, so the inner product FAISS computes is the cosine similarity. FAISS id
``i`` is row ``i`` of the build's sentence table; FAISS pads missing results with id -1, which
``DenseIndex.search`` drops so that no caller ever indexes a list with it. A quantized index
finds ``rerank`` times the candidates asked for and orders them by their exact vectors (the
build's float16 copy, memory-mapped), so its ranking is exact over what it finds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorruptError
from index.storage.vector_file import VectorFileReader

# Exact search of 50,000 384-d vectors takes about 4 ms on one core: past that, IVF.
DEFAULT_EXACT_LIMIT = 50_000
# Past this many vectors the lists hold 6-bit codes (288 bytes a vector instead of 1,536): at
# 1M on the bench's clusters they search faster than IVF-Flat with the same recall (1.0).
DEFAULT_COMPRESS_LIMIT = 500_000
# The scalar quantizer of each compressed kind. "ivf-sq8" is what builds before "ivf-sq6" made;
# at 10M, 6 bits re-ranked kept recall@10 at 1.0 in three quarters of the memory.
SCALAR_QUANTIZERS = {
    "ivf-sq8": faiss.ScalarQuantizer.QT_8bit,
    "ivf-sq6": faiss.ScalarQuantizer.QT_6bit,
}
COMPRESSED_KIND = "ivf-sq6"
# A quantized index takes this many times the asked-for candidates before exact re-ranking.
RERANK_FACTOR = 4
# A quantized index probes at most this many lists unless told otherwise: a 6-bit code costs
# twice an 8-bit one to score (183 against 80 ns), and at 10M recall@10 was 1.0 with 8, 12, 16
# and 24 probes, while 12 probes scan some 38,000 codes (7 ms).
COMPRESSED_MAX_NPROBE = 12
# The dtype of the build's copy of the vectors: half the bytes, cosines within ~1e-3.
STORED_DTYPE = np.float16
# Vectors are added to FAISS this many rows at a time, converted from the stored float16 copy
# (a block takes 37 MB in both dtypes: small beside the lists it fills, at any size).
ADD_BLOCK = 16_384
# An IVF index keeps its trained lists until it holds this many times the vectors it was trained
# on; past that the lists are too coarse for the data and the build retrains them.
RETRAIN_GROWTH = 2.0


@dataclass(frozen=True)
class DenseParams:
    """The FAISS index kind and its parameters, recorded in the manifest."""

    # "flat" (exact), "ivf" (IVF-Flat), "ivf-sq6" or "ivf-sq8" (IVF, 6- or 8-bit scalar
    # quantizer) or "milvus" (a collection of a Milvus engine: exact without nlist, IVF-Flat
    # with it)
    kind: str
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0
    rerank: int = 0  # for "ivf-sq6"/"ivf-sq8": candidates taken per result, re-ranked exactly
    collection: str = ""  # for "milvus": the build's collection

    @property
    def is_ivf(self) -> bool:
        return self.kind == "ivf" or self.kind in SCALAR_QUANTIZERS

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def choose_params(
    count: int,
    exact_limit: int,
    nlist: int = 0,
    nprobe: int = 0,
    compress_limit: int = DEFAULT_COMPRESS_LIMIT,
) -> DenseParams:
    """Exact search up to ``exact_limit`` vectors; above it IVF sized by the count, with 6-bit
    codes and exact re-ranking above ``compress_limit``.

    ``nlist`` is sqrt(n) (so a probe scans lists of about sqrt(n) vectors) and ``nprobe``
    scans 1/64 of them (at least 8; at most ``COMPRESSED_MAX_NPROBE`` for quantized lists),
    unless given (non-zero). Training uses 64 points a list,
    which keeps k-means to seconds at a million vectors on two cores (``bench scale``
    measures recall against exact).
    """
    if count <= exact_limit:
        return DenseParams("flat")
    nlist = nlist or max(16, min(65_536, int(math.sqrt(count))))
    # k-means wants ~39 training points per centroid; fewer lists than that warn and degrade.
    nlist = min(nlist, max(1, count // 39))
    default_nprobe = max(8, nlist // 64)
    if count <= compress_limit:
        nprobe = min(nprobe or default_nprobe, nlist)
        return DenseParams("ivf", nlist=nlist, nprobe=nprobe, trained_on=count)
    nprobe = min(nprobe or min(default_nprobe, COMPRESSED_MAX_NPROBE), nlist)
    return DenseParams(
        COMPRESSED_KIND, nlist=nlist, nprobe=nprobe, trained_on=count, rerank=RERANK_FACTOR
    )


class DenseIndex:
    """A FAISS index with the parameters it was built with."""

    def __init__(
        self, index: faiss.Index, params: DenseParams, exact: np.ndarray | None = None
    ) -> None:
        self.index = index
        self.params = params
        self.exact = exact  # the vectors, row = id, to re-rank a quantized index's candidates

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(
        cls, vectors: np.ndarray, params: DenseParams, centroids: np.ndarray | None = None
    ) -> DenseIndex:
        """Build over ``vectors`` (row ``i`` gets id ``i``), added ``ADD_BLOCK`` rows at a time.

        For IVF, ``centroids`` from an earlier build skip training (an incremental build);
        without them the lists are trained on a sample of ``vectors``.
        """
        index = _empty_index(
            vectors.shape[1], len(vectors), params, centroids, lambda rows: vectors[rows]
        )
        _fill(index, len(vectors), lambda start, end: vectors[start:end])
        return cls(index, params, vectors if params.rerank else None)

    @classmethod
    def build_from_file(
        cls, vectors: VectorFileReader, params: DenseParams, centroids: np.ndarray | None = None
    ) -> DenseIndex:
        """As ``build``, reading the build's vector file a block at a time (see its reader):
        the build holds FAISS's lists and one block, not the vectors as well."""
        index = _empty_index(vectors.dimension, len(vectors), params, centroids, vectors.take)
        _fill(index, len(vectors), vectors.block)
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
        wanted = min(k, self.count)
        taken = min(wanted * max(1, self.params.rerank), self.count)
        scores, ids = self.index.search(queries, taken)
        if (ids < 0).any():
            # Only IVF with too few probed vectors pads; keep the kept prefix per row.
            keep = min(int((row >= 0).sum()) for row in ids)
            scores, ids = scores[:, :keep], ids[:, :keep]
        if self.exact is not None and self.params.rerank and ids.shape[1]:
            scores, ids = self._rerank(queries, ids, wanted)
        return scores[:, :wanted], ids[:, :wanted]

    def _rerank(
        self, queries: np.ndarray, ids: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Order each row's candidates by their exact inner product with the query."""
        assert self.exact is not None
        ids = np.sort(ids, axis=1)  # ascending rows: the memory-mapped file is read forward
        rows = self.exact[ids.ravel()].astype(np.float32).reshape(*ids.shape, -1)
        exact = np.einsum("qcd,qd->qc", rows, queries.astype(np.float32))
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(exact, order, 1), np.take_along_axis(ids, order, 1)

    def centroids(self) -> np.ndarray | None:
        """The trained IVF list centroids, or None for an exact index."""
        if not self.params.is_ivf:
            return None
        quantizer = faiss.extract_index_ivf(self.index).quantizer
        return np.ascontiguousarray(quantizer.reconstruct_n(0, quantizer.ntotal), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(
        cls,
        path: Path,
        params: DenseParams,
        *,
        mmap: bool = True,
        exact: np.ndarray | None = None,
    ) -> DenseIndex:
        """Read the index, memory-mapped where FAISS supports it for this index kind.

        ``exact`` (the build's vectors) re-ranks a quantized index's candidates.
        """
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
        if params.is_ivf:
            faiss.extract_index_ivf(index).nprobe = params.nprobe
        return cls(index, params, exact if params.rerank else None)


def reuse_training(previous: DenseParams, wanted: DenseParams, count: int) -> DenseParams | None:
    """The parameters to keep the previous IVF training with, or None to train afresh.

    Training is kept while both builds are IVF and the index has not outgrown its training by
    ``RETRAIN_GROWTH`` (nor shrunk below it, where fewer lists would fit better).
    """
    if previous.kind != wanted.kind or not wanted.is_ivf or previous.trained_on <= 0:
        return None
    growth = count / previous.trained_on
    if growth > RETRAIN_GROWTH or growth < 1 / RETRAIN_GROWTH:
        return None
    return previous


def as_stored(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` rounded as the build stores them (float16), back in float32 for FAISS.

    Every build rounds its vectors so, whether embedded now or reused from the previous build's
    file, a sentence has the same vector in FAISS and in the stored copy.
    """
    return vectors.astype(STORED_DTYPE).astype(np.float32)


def _empty_index(
    dimension: int,
    count: int,
    params: DenseParams,
    centroids: np.ndarray | None,
    rows_of: Callable[[np.ndarray], np.ndarray],
) -> faiss.Index:
    """A trained, empty index of ``params``' kind; ``rows_of`` gives the training sample's rows.

    For IVF, ``centroids`` from an earlier build skip k-means (only the codes' ranges are
    fitted then, for a scalar-quantized kind).
    """
    if params.kind == "flat":
        return faiss.IndexFlatIP(dimension)
    quantizer = faiss.IndexFlatIP(dimension)
    if params.kind in SCALAR_QUANTIZERS:
        index: faiss.IndexIVF = faiss.IndexIVFScalarQuantizer(
            quantizer,
            dimension,
            params.nlist,
            SCALAR_QUANTIZERS[params.kind],
            faiss.METRIC_INNER_PRODUCT,
        )
    else:
        index = faiss.IndexIVFFlat(quantizer, dimension, params.nlist, faiss.METRIC_INNER_PRODUCT)
    if centroids is not None:
        quantizer.add(centroids)
        if params.kind in SCALAR_QUANTIZERS:
            index.train(_float32(rows_of(_training_rows(count, params.nlist))))
        index.is_trained = True
    else:
        index.train(_float32(rows_of(_training_rows(count, params.nlist))))
    index.nprobe = params.nprobe
    return index


def _fill(index: faiss.Index, count: int, block_of: Callable[[int, int], np.ndarray]) -> None:
    """Add rows ``0..count-1`` (``block_of(start, end)`` gives them), ``ADD_BLOCK`` at a time.

    An IVF index's rows are assigned to their lists first, and each list is given its final
    capacity before it is filled: a list grown as rows arrive doubles its buffer, and the build
    would hold up to twice the codes (45% more, measured at 1M). Assigning is the quantizer
    search ``add`` would make anyway, so the fill costs one more read of the rows, no more.
    """
    if not isinstance(index, faiss.IndexIVF):
        for start in range(0, count, ADD_BLOCK):
            index.add(_float32(block_of(start, start + ADD_BLOCK)))
        return
    lists = np.empty(count, dtype=np.int64)
    for start in range(0, count, ADD_BLOCK):
        block = _float32(block_of(start, start + ADD_BLOCK))
        lists[start : start + len(block)] = index.quantizer.assign(block, 1).ravel()
    sizes = np.bincount(lists, minlength=index.nlist)
    invlists = index.invlists
    assert invlists is not None  # an IVF index made here owns its lists
    for number in np.flatnonzero(sizes):
        # Sizing up then back to empty leaves the buffers' capacity (std::vector keeps it).
        invlists.resize(int(number), int(sizes[number]))
        invlists.resize(int(number), 0)
    for start in range(0, count, ADD_BLOCK):
        block = _float32(block_of(start, start + ADD_BLOCK))
        rows = np.arange(start, start + len(block), dtype=np.int64)
        assigned = lists[start : start + len(block)]  # a slice of a 1-D array: contiguous
        index.add_core(
            len(block), faiss.swig_ptr(block), faiss.swig_ptr(rows), faiss.swig_ptr(assigned)
        )


def _training_rows(count: int, nlist: int) -> np.ndarray:
    """At most 64 points per list, drawn with a fixed seed so builds are repeatable."""
    limit = 64 * nlist
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, size=limit, replace=False))


def _float32(vectors: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 array, as FAISS takes them (no copy when already one)."""
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _last_line(error: Exception) -> str:
    """FAISS puts the useful part of its C++ message on the last line."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__
