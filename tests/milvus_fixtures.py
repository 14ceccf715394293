"""The real Milvus server for the tests: started once per test session (per xdist worker), on
loopback, over a fresh temporary data folder, and stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workshop.milvus_server import MilvusServer, milvus_server


@pytest.fixture(scope="session")
def milvus_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """The ``milvus`` package's Milvus 2.3 standalone server (some 10 s to start, ~200 MB idle);
    only sessions that run a test asking for it start it."""
    with milvus_server(tmp_path_factory.mktemp("milvus-server")) as server:
        yield server
