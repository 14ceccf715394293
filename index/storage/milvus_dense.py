"""The dense side on Milvus: the same searches as the FAISS index, served by a vector engine that
runs as one local process (Milvus Lite), a Milvus server, or a distributed cluster, through one
client (connecting, credentials and errors: ``milvus_engine``).

Each build fills a collection of its own (named after the index folder and the build) from the
build's vector file, so a failed build leaves the live collection alone and the swap to a new
build stays one symlink. Collections are dropped one build late: after a swap the replaced
build's collection stays for the questions still on it (the bot's retired store, another
process), and every older one of the same index folder goes, a crashed build's included. The
ids are the build's sentence ids, as in FAISS. BM25, the metadata and the fusion stay on disk.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import Remedy, VectorEngineError
from index.storage.dense import DenseParams
from index.storage.milvus_engine import (
    HIDDEN,
    MilvusAddress,
    check_reachable,
    client_for,
    connection,
    guarded,
    redacted_uri,
)
from index.storage.vector_file import VectorFileReader

__all__ = [
    "HIDDEN",
    "EngineIndex",
    "MilvusAddress",
    "MilvusDense",
    "check_reachable",
    "collection_name",
    "collection_prefix",
    "connection",
    "drop_collection",
    "drop_collections_but",
    "engine_index",
    "redacted_uri",
]

# Rows sent per insert call: big enough to amortise a round trip, small enough for gRPC's
# default 64 MB message limit (5,000 x 384 floats as JSON-like rows is some 20 MB).
INSERT_BATCH = 5_000
_VECTOR_FIELD = "vector"
_ID_FIELD = "id"
# Searches read what was acknowledged up to ~5 s ago and wait only when the query node lags
# further: a just-built collection (inserted, flushed, loaded) is answered in full, in 2-3 ms a
# search on the Milvus 2.3 server. "Strong" waits for the next time tick (measured 0.2-0.4 s a
# search); "Eventually" missed rows inserted a moment before.
CONSISTENCY = "Bounded"
# Index kinds by size, measured on the Milvus 2.3.5 server here (384 dimensions, 2 cores;
# docs/scaling.md). At 200,000 vectors HNSW (M 16, efConstruction 100, ef 64) was indexed in
# 60 s and searched in 3 ms at recall@10 0.997; IVF_SQ8 in 20 s, 2.5 ms, 0.989, in a quarter of
# the memory. Past HNSW_LIMIT the graph's build time (growing faster than N) and memory
# (~1.7 KB a vector against IVF_SQ8's 0.4 KB) lose.
HNSW_LIMIT = 300_000
HNSW_BUILD = {"M": 16, "efConstruction": 100}
HNSW_EF = 64
# The engine indexes each sealed segment on its own (~300,000 rows at 1 GB segments), not the
# collection: lists sized for the whole collection (sqrt(N) = 1,000 at 1M) took 30 s of k-means
# per 90,000-row segment, 6 minutes for a million, so the lists follow the segment.
IVF_NLIST = 512
IVF_NPROBE = 32
# A build waits this long for the engine to index what it was given, then gives up.
INDEX_WAIT_SECONDS = 3600.0
# Seconds one insert of INSERT_BATCH rows may take (measured ~0.25 s) before the engine counts
# as stopped: at least this, or the address's timeout if longer.
INSERT_SECONDS = 60.0


@dataclass(frozen=True)
class EngineIndex:
    """The engine's index for a build: its kind, build parameters and search parameters."""

    kind: str  # "FLAT", "HNSW" or "IVF_SQ8"
    build: dict[str, int] = field(default_factory=dict)
    search: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``HNSW M=16 efConstruction=100 ef=64``: what ``index info`` and the bench print."""
        settings = {**self.build, **self.search}
        return " ".join([self.kind, *(f"{key}={value}" for key, value in settings.items())])


def engine_index(params: DenseParams) -> EngineIndex:
    """Exact (FLAT) where FAISS would be exact (no ``nlist``), HNSW up to ``HNSW_LIMIT``
    vectors, IVF_SQ8 above (``trained_on`` is the count), its lists per segment."""
    if not params.nlist:
        return EngineIndex("FLAT")
    if params.trained_on <= HNSW_LIMIT:
        return EngineIndex("HNSW", dict(HNSW_BUILD), {"ef": HNSW_EF})
    nlist = min(params.nlist, IVF_NLIST)
    return EngineIndex("IVF_SQ8", {"nlist": nlist}, {"nprobe": min(IVF_NPROBE, nlist)})


def collection_prefix(index_dir: Path) -> str:
    """The start of every collection name of the index in ``index_dir`` (one engine may serve
    several indexes): ``newsdesk_`` and a hash of the folder's absolute path."""
    digest = hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:10]
    return f"newsdesk_{digest}_"


def collection_name(index_dir: Path, build_id: str) -> str:
    """A Milvus collection name for a build: letters, digits and underscores only."""
    return collection_prefix(index_dir) + re.sub(r"[^0-9A-Za-z]", "_", build_id)


class MilvusDense:
    """A build's sentence vectors in a Milvus collection, searched like ``DenseIndex``."""

    def __init__(self, client: Any, address: MilvusAddress, name: str, params: DenseParams):
        self.client = client
        self.address = address
        self.name = name
        self.params = params

    @property
    def count(self) -> int:
        stats = guarded(
            self.address,
            lambda: self.client.get_collection_stats(self.name, timeout=self.address.timeout),
        )
        return int(stats["row_count"])

    @classmethod
    def build_from_file(
        cls, vectors: VectorFileReader, params: DenseParams, address: MilvusAddress
    ) -> MilvusDense:
        """Create the collection ``params.collection`` with its index (``engine_index``), fill
        it from the build's vector file, wait until the engine has indexed every sealed
        segment, and load it for searching. ``VectorEngineError`` when the engine fails or
        stops on the way (the caller drops the half-made collection)."""
        client = client_for(address)
        try:
            return cls._filled(client, vectors, params, address)
        except BaseException:
            client.close()
            raise

    @classmethod
    def _filled(
        cls, client: Any, vectors: VectorFileReader, params: DenseParams, address: MilvusAddress
    ) -> MilvusDense:
        name = params.collection
        _create(client, address, name, vectors.dimension)
        # The index before the rows: a create_index on an empty collection returns at once, so
        # no dropped connection can make pymilvus retry it after the engine took it (which
        # raised "index already exists" for a built index), and the engine indexes each
        # segment as it is sealed, while the rest is still being inserted.
        _create_index(client, address, name, engine_index(params))
        dense = cls(client, address, name, params)
        for start in range(0, len(vectors), INSERT_BATCH):
            dense.add(start, vectors.block(start, start + INSERT_BATCH))
        guarded(address, lambda: client.flush(name))
        _wait_indexed(client, address, name)
        guarded(address, lambda: client.load_collection(name))
        return dense

    @classmethod
    def open(cls, params: DenseParams, address: MilvusAddress) -> MilvusDense:
        """Connect to the build's collection, loaded for searching."""
        client = client_for(address)
        name = params.collection
        try:
            if not guarded(address, lambda: client.has_collection(name)):
                raise VectorEngineError(
                    f"the vector engine at {address.shown} has no collection {name} for this index",
                    Remedy.REBUILD,
                )
            guarded(address, lambda: client.load_collection(name))
        except BaseException:
            client.close()
            raise
        return cls(client, address, name, params)

    def add(self, first_id: int, vectors: np.ndarray) -> None:
        """Insert ``vectors`` with ids ``first_id``, ``first_id + 1``, ..."""
        rows = [
            {_ID_FIELD: first_id + number, _VECTOR_FIELD: vector}
            for number, vector in enumerate(np.asarray(vectors, dtype=np.float32).tolist())
        ]
        timeout = max(INSERT_SECONDS, self.address.timeout)
        guarded(self.address, lambda: self.client.insert(self.name, rows, timeout=timeout))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row, as ``DenseIndex.search`` gives them."""
        settings = dict(engine_index(self.params).search)
        if "ef" in settings:
            settings["ef"] = max(settings["ef"], k)  # HNSW returns at most ef results
        found = guarded(
            self.address,
            lambda: self.client.search(
                self.name,
                data=np.asarray(queries, dtype=np.float32).tolist(),
                limit=k,
                output_fields=[_ID_FIELD],
                search_params={"metric_type": "IP", "params": settings},
                anns_field=_VECTOR_FIELD,
                consistency_level=CONSISTENCY,
                timeout=self.address.timeout,
            ),
        )
        width = min((len(hits) for hits in found), default=0)
        scores = np.zeros((len(queries), width), dtype=np.float32)
        ids = np.zeros((len(queries), width), dtype=np.int64)
        for row, hits in enumerate(found):
            for column, hit in enumerate(hits[:width]):
                scores[row, column] = hit["distance"]
                ids[row, column] = hit["id"]
        return scores, ids

    def close(self) -> None:
        self.client.close()


def drop_collection(address: MilvusAddress, name: str) -> None:
    """Drop ``name`` if the engine has it (a failed build's collection)."""
    client = client_for(address)
    try:
        if guarded(address, lambda: client.has_collection(name)):
            guarded(address, lambda: client.drop_collection(name))
    finally:
        client.close()


def drop_collections_but(address: MilvusAddress, prefix: str, keep: set[str]) -> list[str]:
    """Drop the collections named ``prefix...`` but those in ``keep``; returns the dropped."""
    client = client_for(address)
    try:
        names = guarded(address, lambda: list(client.list_collections()))
        dropped = [name for name in names if name.startswith(prefix) and name not in keep]
        for name in dropped:
            _drop(address, client, name)
    finally:
        client.close()
    return dropped


def _drop(address: MilvusAddress, client: Any, name: str) -> None:
    guarded(address, lambda: client.drop_collection(name))


def _create(client: Any, address: MilvusAddress, name: str, dimension: int) -> None:
    """Create the build's collection; one that exists already is this build's own (the names
    are unique per build), made by a request whose answer was lost, and is kept."""
    from pymilvus import DataType, MilvusClient
    from pymilvus.exceptions import MilvusException

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(_ID_FIELD, DataType.INT64, is_primary=True)
    schema.add_field(_VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dimension)
    try:
        client.create_collection(name, schema=schema, consistency_level=CONSISTENCY)
    except MilvusException:
        if not guarded(address, lambda: client.has_collection(name)):
            guarded(address, lambda: client.create_collection(name, schema=schema))


def _create_index(client: Any, address: MilvusAddress, name: str, index: EngineIndex) -> None:
    """Create the vector index; one of the same kind already there (a retried request the
    engine had carried out) is kept, any other failure raises ``VectorEngineError``."""
    from pymilvus.exceptions import MilvusException

    wanted = client.prepare_index_params()
    wanted.add_index(_VECTOR_FIELD, index_type=index.kind, metric_type="IP", params=index.build)
    try:
        client.create_index(name, wanted, sync=False)  # Lite cannot wait: no AllocTimestamp
    except MilvusException:
        if _index_kind(client, address, name) != index.kind:
            guarded(address, lambda: client.create_index(name, wanted, sync=False))


def _index_kind(client: Any, address: MilvusAddress, name: str) -> str:
    names = guarded(address, lambda: client.list_indexes(name, field_name=_VECTOR_FIELD))
    if not names:
        return ""
    found = guarded(address, lambda: client.describe_index(name, names[0]))
    return str(found.get("index_type", ""))


def _wait_indexed(client: Any, address: MilvusAddress, name: str) -> None:
    """Wait until the engine has indexed every sealed segment: a segment loaded before its
    index is searched row by row, tens of times slower, until the engine swaps it (minutes
    at 200,000 rows). An engine that does not report progress (Milvus Lite) indexes as it
    loads."""
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    [index_name] = guarded(address, lambda: client.list_indexes(name)) or [""]
    while True:
        state = guarded(address, lambda: client.describe_index(name, index_name)) or {}
        if "pending_index_rows" not in state:
            return
        if state.get("state") == "Finished" and not int(state["pending_index_rows"]):
            return
        if state.get("state") == "Failed":
            reason = state.get("index_state_fail_reason") or "no reason given"
            raise VectorEngineError(
                f"the vector engine at {address.shown} failed to index {name} ({reason})",
                Remedy.CHECK_ENGINE,
            )
        if time.monotonic() > deadline:
            raise VectorEngineError(
                f"the vector engine at {address.shown} did not index {name} in "
                f"{INDEX_WAIT_SECONDS:.0f} s",
                Remedy.CHECK_ENGINE,
            )
        time.sleep(0.5)
