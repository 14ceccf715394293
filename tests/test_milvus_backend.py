"""VECTOR_BACKEND=milvus: the vectors in a real Milvus server (the ``milvus`` package's Milvus
2.3 standalone, started once per session on loopback), and in Milvus Lite's local file."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.telegram.app import run_bot
from index.analysis.embedder import Embedder
from index.corpus.passages import ChunkingSettings
from index.errors import VectorEngineError
from index.indexing.builder import BuildOptions, build_index
from index.storage.dense import DenseParams
from index.storage.manifest import read_manifest
from index.storage.milvus_dense import (
    CONSISTENCY,
    MilvusAddress,
    MilvusDense,
    check_reachable,
    collection_prefix,
    connection,
    engine_index,
    redacted_uri,
)
from index.storage.store import FAISS_FILE, current_build, open_index
from index.storage.vector_file import VectorFileReader, VectorFileWriter
from tests.conftest import BOT_TOKEN
from tests.test_cli import newsdesk
from workshop.fake_telegram.server import FakeBotApi
from workshop.milvus_server import MilvusServer, free_port, milvus_server

SECRET = "s3cret-pass"


@pytest.fixture
def milvus(milvus_engine: MilvusServer) -> MilvusAddress:
    """The session's real Milvus server."""
    return milvus_engine.address


def _open(index_dir: Path, embedder: Embedder, milvus: MilvusAddress | None):  # type: ignore[no-untyped-def]
    return open_index(
        index_dir,
        model_name=embedder.info.name,
        chunking=ChunkingSettings(),
        model=embedder.info,
        milvus=milvus,
    )


def _top_sentence(index_dir: Path, embedder: Embedder, milvus: MilvusAddress, text: str) -> str:
    store = _open(index_dir, embedder, milvus)
    try:
        _, ids = store.dense.search(embedder.embed_query(text), 1)
        return store.metadata.sentence(int(ids[0, 0])).text
    finally:
        store.close()


def test_build_add_delete_and_search_on_the_engine(
    seeds: Path, tmp_path: Path, embedder: Embedder, milvus: MilvusAddress
) -> None:
    index_dir = tmp_path / "index"
    options = BuildOptions(milvus=milvus)
    first = build_index(seeds, index_dir, embedder, options)
    manifest = read_manifest(current_build(index_dir))
    assert manifest.dense.kind == "milvus" and manifest.dense.collection
    assert engine_index(manifest.dense).kind == "FLAT"  # 16 sentences: exact, as FAISS would be
    assert not (current_build(index_dir) / FAISS_FILE).exists()
    found = _top_sentence(index_dir, embedder, milvus, "Who said the battle could take days?")
    assert "Mustafa Bali" in found

    (seeds / "harbour.txt").write_text("Harbour news\n\nThe harbour in Dover reopened for ships.\n")
    added = build_index(seeds, index_dir, embedder, options)
    assert added.added == ["harbour.txt"] and added.embedded == 1  # the rest reused
    assert "Dover" in _top_sentence(index_dir, embedder, milvus, "Which harbour reopened?")
    store = _open(index_dir, embedder, milvus)
    assert isinstance(store.dense, MilvusDense) and store.dense.count == first.sentences + 1
    client = store.dense.client
    assert client.has_collection(manifest.dense.collection)  # kept one build for late questions
    second = read_manifest(current_build(index_dir)).dense.collection

    (seeds / "harbour.txt").unlink()
    removed = build_index(seeds, index_dir, embedder, options)
    assert removed.removed == ["harbour.txt"] and removed.embedded == 0
    assert "Dover" not in _top_sentence(index_dir, embedder, milvus, "Which harbour reopened?")
    assert not client.has_collection(manifest.dense.collection)  # two builds old: dropped
    assert client.has_collection(second)
    store.close()


def test_an_unreachable_engine_fails_the_build_and_keeps_the_live_index(
    seeds: Path, tmp_path: Path, embedder: Embedder, milvus: MilvusAddress
) -> None:
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions(milvus=milvus))
    live = current_build(index_dir)
    gone = MilvusAddress(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    (seeds / "harbour.txt").write_text("Harbour news\n\nThe harbour opened.\n")
    with pytest.raises(VectorEngineError, match="cannot be reached"):
        build_index(seeds, index_dir, embedder, BuildOptions(milvus=gone))
    assert current_build(index_dir) == live
    with pytest.raises(VectorEngineError, match="cannot be reached"):
        _open(index_dir, embedder, gone)
    assert _open(index_dir, embedder, milvus).sentence_count == 16  # the engine is back


def _vector_file(path: Path, vectors: np.ndarray) -> VectorFileReader:
    writer = VectorFileWriter(path, vectors.shape[1], np.float16)
    writer.append(vectors)
    writer.finish()
    return VectorFileReader(path)


@pytest.mark.parametrize(("count", "kind"), [(3_000, "HNSW"), (400_000, "IVF_SQ8")])
def test_the_engine_index_kind_follows_the_size(
    tmp_path: Path, milvus: MilvusAddress, count: int, kind: str
) -> None:
    """The kind is chosen from the count the manifest records; 3,000 real rows (above the
    engine's 1,024-row floor for indexing a segment) are indexed and searched with it."""
    params = DenseParams("milvus", nlist=54, nprobe=8, trained_on=count, collection=f"t_{kind}")
    assert engine_index(params).kind == kind
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stored = _vector_file(tmp_path / "vectors.npy", vectors)
    dense = MilvusDense.build_from_file(stored, params, milvus)
    try:
        [name] = dense.client.list_indexes(dense.name)
        described = dense.client.describe_index(dense.name, name)
        assert described["index_type"] == kind and described["pending_index_rows"] == 0
        assert int(described["indexed_rows"]) == 3_000  # waited for: no segment left raw
        queries = vectors[:20] + 0.05 * rng.normal(size=(20, 32)).astype(np.float32)
        _, ids = dense.search(queries, 10)
        assert np.mean(ids[:, 0] == np.arange(20)) >= 0.95
        assert dense.count == 3_000
    finally:
        dense.client.drop_collection(dense.name)
        dense.close()


def test_a_retried_creation_keeps_the_collection_and_its_index(milvus: MilvusAddress) -> None:
    """A request the engine carried out but whose answer was lost is sent again by pymilvus;
    the second create of the collection and of its index must not fail the build."""
    from index.storage.milvus_dense import _create, _create_index
    from index.storage.milvus_engine import client_for

    client = client_for(milvus)
    index = engine_index(DenseParams("milvus", nlist=16, nprobe=8, trained_on=1_000))
    try:
        for _ in range(2):
            _create(client, milvus, "t_retried", 8)
            _create_index(client, milvus, "t_retried", index)
        assert client.describe_collection("t_retried")["consistency_level"] in (CONSISTENCY, 2)
        [name] = client.list_indexes("t_retried")
        assert client.describe_index("t_retried", name)["index_type"] == "HNSW"
    finally:
        client.drop_collection("t_retried")
        client.close()


def test_the_cli_answers_from_the_server_with_credentials_in_the_uri(
    seeds: Path, tmp_path: Path, milvus: MilvusAddress
) -> None:
    """The hybrid answer through ``ask`` (BM25 on disk, vectors in the server); a user and
    password in MILVUS_URI are sent as the token and never printed."""
    uri = milvus.uri.replace("http://", f"http://root:{SECRET}@")
    assert connection(MilvusAddress(uri)) == (milvus.uri, f"root:{SECRET}")
    built = newsdesk("index", "build", cwd=tmp_path, **on_milvus(uri))
    assert built.returncode == 0, built.stderr
    assert "Milvus collection newsdesk_" in built.stdout
    asked = newsdesk("ask", "How many civilians left?", cwd=tmp_path, **on_milvus(uri))
    assert asked.returncode == 0, asked.stderr
    assert "**Around 1,500**" in asked.stdout
    for run in (built, asked):
        assert SECRET not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_the_engine_stopped_mid_build_fails_it_and_keeps_the_live_index(
    seeds: Path, tmp_path: Path, embedder: Embedder, milvus: MilvusAddress
) -> None:
    """A server of its own is killed as soon as the build's collection appears in it: the
    build fails with the engine's one error, the live index (on the session's server) stays."""
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions(milvus=milvus))
    live = current_build(index_dir)
    (seeds / "harbour.txt").write_text("Harbour news\n\nThe harbour opened.\n")
    with milvus_server(tmp_path / "doomed") as doomed:
        killed = threading.Event()

        def kill_when_filling() -> None:
            from index.storage.milvus_engine import client_for

            watcher = client_for(doomed.address)
            prefix = collection_prefix(index_dir)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if any(name.startswith(prefix) for name in watcher.list_collections()):
                    os.kill(doomed.pid, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_when_filling, daemon=True)
        watcher.start()
        started = time.monotonic()
        with pytest.raises(VectorEngineError, match="failed or cannot be reached"):
            build_index(seeds, index_dir, embedder, BuildOptions(milvus=doomed.address))
        assert killed.is_set() and time.monotonic() - started < 90
    assert current_build(index_dir) == live
    assert "Mustafa Bali" in _top_sentence(
        index_dir, embedder, milvus, "Who said the battle could take days?"
    )


def test_a_frozen_engine_is_one_error_after_the_timeout(
    seeds: Path, tmp_path: Path, embedder: Embedder, milvus_engine: MilvusServer
) -> None:
    """A server that stops answering (SIGSTOP: a stalled node, a full disk) fails a search
    after the address's timeout instead of hanging the question; it answers once it resumes."""
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions(milvus=milvus_engine.address))
    impatient = MilvusAddress(milvus_engine.address.uri, timeout=2.0)
    store = _open(index_dir, embedder, impatient)
    question = embedder.embed_query("Who said the battle could take days?")
    os.kill(milvus_engine.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(VectorEngineError, match="failed or cannot be reached"):
            store.dense.search(question, 1)
        assert time.monotonic() - started < 15
    finally:
        os.kill(milvus_engine.pid, signal.SIGCONT)
    _, ids = store.dense.search(question, 1)
    assert "Mustafa Bali" in store.metadata.sentence(int(ids[0, 0])).text
    store.close()


def test_the_cli_answers_from_milvus_lite_and_says_when_it_is_down(
    seeds: Path, tmp_path: Path
) -> None:
    """The default engine address: Milvus Lite in INDEX_DIR/milvus.db, no server to start."""
    built = newsdesk("index", "build", cwd=tmp_path, VECTOR_BACKEND="milvus")
    assert built.returncode == 0, built.stderr
    assert "Milvus collection newsdesk_" in built.stdout
    assert "Traceback" not in built.stderr and "ERROR" not in built.stderr
    asked = newsdesk("ask", "How many civilians left?", cwd=tmp_path, VECTOR_BACKEND="milvus")
    assert asked.returncode == 0, asked.stderr
    assert "**Around 1,500**" in asked.stdout

    down = f"http://127.0.0.1:{free_port()}"
    refused = newsdesk(
        "ask", "How many civilians left?", cwd=tmp_path, VECTOR_BACKEND="milvus", MILVUS_URI=down
    )
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"newsdesk: the vector engine at {down} failed or cannot be reached")
    assert line.endswith("start it, or set MILVUS_URI to where it runs")

    # The same file named in MILVUS_URI: pymilvus reads that variable on import and refused a
    # .db path with its traceback before any of Newsdesk ran.
    lite = str(tmp_path / "var" / "index" / "milvus.db")
    named = newsdesk("ask", "How many civilians left?", cwd=tmp_path, **on_milvus(lite))
    assert named.returncode == 0, named.stderr
    assert "**Around 1,500**" in named.stdout


def on_milvus(uri: str) -> dict[str, str]:
    return {"VECTOR_BACKEND": "milvus", "MILVUS_URI": uri}


def test_a_locked_milvus_lite_file_is_one_line(seeds: Path, tmp_path: Path) -> None:
    """A console holds Milvus Lite's file; another command says so in one line, without
    Milvus Lite's two logged tracebacks before it."""
    built = newsdesk("index", "build", cwd=tmp_path, VECTOR_BACKEND="milvus")
    assert built.returncode == 0, built.stderr
    holder = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env={**os.environ, "VECTOR_BACKEND": "milvus"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        holder.stdin.write(":sources\n")
        holder.stdin.flush()
        assert "article(s) indexed" in holder.stdout.readline()  # it has the file open
        for args in (("ask", "How many civilians left?"), ("index", "build")):
            refused = newsdesk(*args, cwd=tmp_path, VECTOR_BACKEND="milvus")
            assert refused.returncode == 1
            [line] = refused.stderr.strip().splitlines()
            assert line.startswith("newsdesk: the vector engine at var/index/milvus.db failed")
            assert "another process holds the lock on" in line
    finally:
        holder.communicate(":quit\n", timeout=60)


@pytest.mark.parametrize("uri", ["not a uri", "localhost:19530", f"http://bob:{SECRET}@"])
def test_a_milvus_uri_that_is_no_address_is_one_line(tmp_path: Path, uri: str) -> None:
    refused = newsdesk("index", "build", cwd=tmp_path, **on_milvus(uri))
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("newsdesk: bad setting MILVUS_URI: not a URI or a .db path: '")
    assert SECRET not in line
    assert not (tmp_path / "var").exists()  # refused before anything was read or written
    # The FAISS side never connects to Milvus: the variable is not its business.
    assert Settings(_env_file=None, milvus_uri=uri).milvus_uri == uri
    # Given to the library anyway, it is the engine's one error, not pymilvus's traceback.
    with pytest.raises(VectorEngineError, match="failed or cannot be reached"):
        check_reachable(MilvusAddress(uri, timeout=2.0))


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        (f"http://bob:{SECRET}@127.0.0.1:19530", "http://***@127.0.0.1:19530"),
        (f"https://bob:pa/{SECRET}@host/db", "https://***@host/db"),  # "/" typed unescaped
        (f"http://host:19530/?x=1&Token={SECRET}#f", "http://host:19530/?x=1&Token=***#f"),
        (f"bob:{SECRET}@host:19530", "***@host:19530"),
        ("/home/me@work/milvus.db", "/home/me@work/milvus.db"),  # a path, not credentials
        ("http://host:19530", "http://host:19530"),
    ],
)
def test_credentials_in_an_address_are_never_shown(uri: str, shown: str) -> None:
    assert redacted_uri(uri) == shown
    address = MilvusAddress(uri, token=f"root:{SECRET}")
    assert address.shown == shown
    assert SECRET not in repr(address) and SECRET not in str(address)


def test_the_cli_line_for_a_down_engine_hides_the_credentials(seeds: Path, tmp_path: Path) -> None:
    port = free_port()
    uri = f"http://bob:{SECRET}@127.0.0.1:{port}/?token={SECRET}"
    for args in (("index", "build"), ("ask", "How many civilians left?")):
        refused = newsdesk(*args, cwd=tmp_path, VECTOR_BACKEND="milvus", MILVUS_URI=uri)
        assert refused.returncode == 1
        *building, line = refused.stderr.strip().splitlines()  # ask: "building it first"
        assert len(building) == (args[0] == "ask") and "Traceback" not in refused.stderr
        assert line.startswith(
            f"newsdesk: the vector engine at http://***@127.0.0.1:{port}/?token=*** failed"
        )
        assert SECRET not in refused.stderr + refused.stdout


def test_the_bot_start_hides_the_credentials(
    seeds: Path, tmp_path: Path, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=SecretStr(BOT_TOKEN),
        telegram_base_url=api.base_url,
        seeds_dir=seeds,
        index_dir=tmp_path / "index",
        vector_backend="milvus",
        milvus_uri=f"http://bob:{SECRET}@127.0.0.1:{free_port()}",
        milvus_token=SecretStr(f"root:{SECRET}"),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(VectorEngineError) as refused:
        run_bot(settings)
    assert "the vector engine at http://***@127.0.0.1:" in str(refused.value)
    assert SECRET not in str(refused.value) and SECRET not in caplog.text
