"""The dense side on Milvus: the same searches as the FAISS index, served by a vector engine that
runs as one local process (Milvus Lite) or as a distributed cluster, through one client.

Each build fills a collection of its own (named after the index folder and the build) from the
build's vector file, so a failed build leaves the live collection alone and the swap to a new
build stays one symlink. Collections are dropped one build late: after a swap the replaced
build's collection stays for the questions still on it (the bot's retired store, another
process), and every older one of the same index folder goes, a crashed build's included. The
ids are the build's sentence ids, as in FAISS. BM25, the metadata and the fusion stay on disk.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.errors import Remedy, VectorEngineError
from index.storage.dense import DenseParams
from index.storage.vector_file import VectorFileReader

# Rows sent per insert call: big enough to amortise a round trip, small enough for gRPC's
# default 64 MB message limit (5,000 x 384 floats as JSON-like rows is some 20 MB).
INSERT_BATCH = 5_000
_VECTOR_FIELD = "vector"
_ID_FIELD = "id"
_Result = TypeVar("_Result")


# Query parameters whose value is a secret (``?token=...``), matched case-insensitively.
_SECRET_PARAM = re.compile(
    r"([?&;](?:token|password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth)=)[^&;#]*",
    re.IGNORECASE,
)
HIDDEN = "***"


def redacted_uri(uri: str) -> str:
    """``uri`` fit to print or log: its user and password (``http://***@host:19530``) and any
    secret query parameter (``?token=***``) hidden. Every URI the library words goes through
    here: a cluster's address often carries its credentials (``https://user:password@host``).

    Anything up to the last ``@`` after the scheme counts as credentials, so a password with
    ``/``, ``?`` or ``@`` in it (unescaped, as people type them) is hidden whole; a path with
    ``@`` in a folder's name (``/home/me@work/milvus.db``) is left as it is.
    """
    scheme, separator, rest = uri.partition("://")
    if not separator:
        scheme, rest = "", uri
    if "@" in rest and (separator or "/" not in rest.rpartition("@")[0]):
        rest = f"{HIDDEN}@{rest.rpartition('@')[2]}"
    return scheme + separator + _SECRET_PARAM.sub(rf"\1{HIDDEN}", rest)


@dataclass(frozen=True, repr=False)
class MilvusAddress:
    """Where the engine is: a Milvus Lite file (``/path/milvus.db``) or a server's URI
    (``http://host:19530``), and the token a cluster wants (``user:password``, or none)."""

    uri: str
    token: str = ""
    # Seconds to connect, and for a search or a count, before the engine counts as unreachable
    # (filling and loading a collection take as long as they take).
    timeout: float = 10.0

    @property
    def shown(self) -> str:
        """The URI as messages and logs give it: without its credentials."""
        return redacted_uri(self.uri)

    def __repr__(self) -> str:  # a logged or traced address keeps its secrets too
        token = HIDDEN if self.token else ""
        return f"MilvusAddress(uri={self.shown!r}, token={token!r}, timeout={self.timeout})"


def collection_prefix(index_dir: Path) -> str:
    """The start of every collection name of the index in ``index_dir`` (one engine may serve
    several indexes): ``newsdesk_`` and a hash of the folder's absolute path."""
    digest = hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:10]
    return f"newsdesk_{digest}_"


def collection_name(index_dir: Path, build_id: str) -> str:
    """A Milvus collection name for a build: letters, digits and underscores only."""
    return collection_prefix(index_dir) + re.sub(r"[^0-9A-Za-z]", "_", build_id)


# gRPC servers take a client's keepalive ping at most every 5 minutes unless set otherwise (Milvus
# Lite's server is not); pymilvus pings every 10 s, and such a server, several minutes into one
# long call, closes the connection ("too_many_pings"). Each call's own timeout still bounds a
# dead engine.
_CHANNEL_OPTIONS = {"grpc.keepalive_time_ms": 360_000, "grpc.keepalive_permit_without_calls": 0}


def _client(address: MilvusAddress) -> Any:
    _import_pymilvus()
    from pymilvus import MilvusClient

    with _lite_logs_kept() as kept:
        return _guarded(
            address,
            lambda: MilvusClient(
                uri=address.uri,
                token=address.token,
                timeout=address.timeout,
                grpc_options=_CHANNEL_OPTIONS,
            ),
            kept,
        )


# pymilvus's own settings, read from the environment (and the ``.env`` it loads) on import.
_PYMILVUS_VARIABLES = ("MILVUS_URI", "MILVUS_DEFAULT_CONNECTION")
_IMPORT_LOCK = threading.Lock()


def _import_pymilvus() -> None:
    """Import pymilvus with its reading of ``MILVUS_URI`` turned off.

    On import pymilvus takes ``MILVUS_URI`` as the address of a default connection and raises
    on anything but ``http[s]://host``: Newsdesk's setting of the same name, a Milvus Lite
    ``.db`` path included, stopped every Milvus command with pymilvus's traceback before any
    code here ran. Each client is given its address, so the import sees those variables empty;
    they are put back right after.
    """
    if "pymilvus" in sys.modules:
        return
    with _IMPORT_LOCK:
        saved = {name: os.environ.get(name) for name in _PYMILVUS_VARIABLES}
        os.environ.update(dict.fromkeys(_PYMILVUS_VARIABLES, ""))  # .env never overrides these
        try:
            importlib.import_module("pymilvus")
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class _Kept(logging.Handler):
    """A handler that keeps what it is given, for the error line to quote."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _lite_logs_kept() -> Iterator[list[logging.LogRecord]]:
    """Milvus Lite's log records while a client opens, kept instead of printed.

    When Milvus Lite cannot open its file (another process holds it) it logs the reason with a
    traceback at ERROR, and pymilvus raises only "Open local milvus failed": the reason goes
    into the one ``VectorEngineError`` line instead of two tracebacks before it.
    """
    logger = logging.getLogger("milvus_lite")
    handler, propagate = _Kept(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _guarded(
    address: MilvusAddress,
    call: Callable[[], _Result],
    logged: Sequence[logging.LogRecord] = (),
) -> _Result:
    """Run ``call``, turning the client's errors into one ``VectorEngineError``; its reason is
    the last exception in ``logged`` (what Milvus Lite logged meanwhile), else the client's."""
    _import_pymilvus()
    from pymilvus.exceptions import MilvusException

    try:
        return call()
    except MilvusException as error:
        told = [str(record.exc_info[1]) for record in logged if record.exc_info]
        reason = (told[-1] if told else "") or getattr(error, "message", "") or str(error)
        reason = _without_secrets(reason, address)
        raise VectorEngineError(
            f"the vector engine at {address.shown} failed or cannot be reached ({reason})",
            Remedy.CHECK_ENGINE,
        ) from None


def _without_secrets(text: str, address: MilvusAddress) -> str:
    """A client's message with the address's URI redacted and its token hidden (pymilvus quotes
    the URI it could not use: "uri: https://user:password@host is illegal")."""
    text = text.replace(address.uri, address.shown)
    return text.replace(address.token, HIDDEN) if address.token else text


class MilvusDense:
    """A build's sentence vectors in a Milvus collection, searched like ``DenseIndex``."""

    def __init__(self, client: Any, address: MilvusAddress, name: str, params: DenseParams):
        self.client = client
        self.address = address
        self.name = name
        self.params = params

    @property
    def count(self) -> int:
        stats = _guarded(
            self.address,
            lambda: self.client.get_collection_stats(self.name, timeout=self.address.timeout),
        )
        return int(stats["row_count"])

    @classmethod
    def build_from_file(
        cls, vectors: VectorFileReader, params: DenseParams, address: MilvusAddress
    ) -> MilvusDense:
        """Create the collection ``params.collection``, fill it from the build's vector file,
        index it (exact below the exact limit, IVF-Flat with ``params``' lists above) and load
        it for searching."""
        client = _client(address)
        try:
            return cls._filled(client, vectors, params, address)
        except BaseException:
            client.close()
            raise

    @classmethod
    def _filled(
        cls, client: Any, vectors: VectorFileReader, params: DenseParams, address: MilvusAddress
    ) -> MilvusDense:
        from pymilvus import DataType, MilvusClient

        name = params.collection
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(_ID_FIELD, DataType.INT64, is_primary=True)
        schema.add_field(_VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=vectors.dimension)
        index = client.prepare_index_params()
        if params.nlist:
            index.add_index(
                _VECTOR_FIELD,
                index_type="IVF_FLAT",
                metric_type="IP",
                params={"nlist": params.nlist},
            )
        else:
            index.add_index(_VECTOR_FIELD, index_type="FLAT", metric_type="IP")
        _guarded(address, lambda: client.create_collection(name, schema=schema))
        dense = cls(client, address, name, params)
        for start in range(0, len(vectors), INSERT_BATCH):
            dense.add(start, vectors.block(start, start + INSERT_BATCH))
        _guarded(address, lambda: client.flush(name))
        # Not waited for here (Milvus Lite has no timestamp service to wait with): loading the
        # collection waits for its index.
        _guarded(address, lambda: client.create_index(name, index, sync=False))
        _guarded(address, lambda: client.load_collection(name))
        return dense

    @classmethod
    def open(cls, params: DenseParams, address: MilvusAddress) -> MilvusDense:
        """Connect to the build's collection, loaded for searching."""
        client = _client(address)
        name = params.collection
        try:
            if not _guarded(address, lambda: client.has_collection(name)):
                raise VectorEngineError(
                    f"the vector engine at {address.shown} has no collection {name} for this index",
                    Remedy.REBUILD,
                )
            _guarded(address, lambda: client.load_collection(name))
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
        _guarded(self.address, lambda: self.client.insert(self.name, rows))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row, as ``DenseIndex.search`` gives them."""
        params = {"metric_type": "IP", "params": {"nprobe": self.params.nprobe or 1}}
        found = _guarded(
            self.address,
            lambda: self.client.search(
                self.name,
                data=np.asarray(queries, dtype=np.float32).tolist(),
                limit=k,
                output_fields=[_ID_FIELD],
                search_params=params,
                anns_field=_VECTOR_FIELD,
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
    client = _client(address)
    try:
        if _guarded(address, lambda: client.has_collection(name)):
            _guarded(address, lambda: client.drop_collection(name))
    finally:
        client.close()


def drop_collections_but(address: MilvusAddress, prefix: str, keep: set[str]) -> list[str]:
    """Drop the collections named ``prefix...`` but those in ``keep``; returns the dropped."""
    client = _client(address)
    try:
        names = _guarded(address, lambda: list(client.list_collections()))
        dropped = [name for name in names if name.startswith(prefix) and name not in keep]
        for name in dropped:
            _drop(address, client, name)
    finally:
        client.close()
    return dropped


def _drop(address: MilvusAddress, client: Any, name: str) -> None:
    _guarded(address, lambda: client.drop_collection(name))


def check_reachable(address: MilvusAddress) -> None:
    """Connect once, so that a build fails before its embedding rather than after it."""
    _client(address).close()
