"""VECTOR_BACKEND=milvus: the vectors in a real Milvus Lite server started here, on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.bench.fake_telegram.server import FakeBotApi
from bot.bench.milvus_server import free_port, milvus_server
from bot.config import Settings
from bot.telegram.app import run_bot
from index.analysis.embedder import Embedder
from index.build.builder import BuildOptions, build_index
from index.corpus.passages import ChunkingSettings
from index.errors import VectorEngineError
from index.storage.manifest import read_manifest
from index.storage.milvus_dense import (
    MilvusAddress,
    MilvusDense,
    check_reachable,
    redacted_uri,
)
from index.storage.store import FAISS_FILE, current_build, open_index
from tests.conftest import BOT_TOKEN
from tests.test_cli import newsdesk

SECRET = "s3cret-pass"


@pytest.fixture(scope="module")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusAddress]:
    """A Milvus Lite gRPC server of its own, stopped after the module's tests."""
    with milvus_server(tmp_path_factory.mktemp("milvus")) as server:
        yield server.address


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
