"""The ONNX question encoder: same vectors as sentence-transformers, no torch at question time.

The index is built once for real (the export included); each test that changes it works on a
copy. Questions are asked through the real command line in a subprocess, so ``sys.modules``
there is a fresh process's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.reports import describe_error
from bot.runtime import build_setup
from index.analysis.embedder import Embedder
from index.analysis.onnx_export import MIN_COSINE, check_agreement
from index.analysis.query_encoder import QUERY_FILES, QUERY_WEIGHTS_FILE
from index.errors import IndexMismatchError, QueryEncoderError
from index.storage.store import current_build, open_index
from tests.conftest import SEED_ARTICLE

QUESTION = "Who said the final battle could take hours or days?"
HEAVY = ("torch", "sentence_transformers", "spacy", "transformers")
# Runs the real CLI in-process, then reports what it imported: the honest way to know.
ASK_AND_REPORT = """
import json, sys
from bot.cli import main
sys.argv = ["newsdesk", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


@pytest.fixture(scope="module")
def pristine(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds and an index built from them, copied (never changed) by each test."""
    root = tmp_path_factory.mktemp("query-encoder")
    (root / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, root / "seeds" / SEED_ARTICLE.name)
    build_setup(settings_for(root).index_setup(), embedder=embedder)
    return root


def settings_for(root: Path) -> Settings:
    return Settings(_env_file=None, seeds_dir=root / "seeds", index_dir=root / "index")


def copy_of(pristine: Path, into: Path) -> Path:
    """A private copy of seeds and index; returns the copy's live build folder."""
    shutil.copytree(pristine / "seeds", into / "seeds")
    shutil.copytree(pristine / "index", into / "index", symlinks=True)
    return current_build(into / "index")


def run_cli(
    workdir: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """``newsdesk ARGS`` in a fresh Python; the result and what it reported on its last line."""
    env = {
        **os.environ,
        "SEEDS_DIR": str(workdir / "seeds"),
        "INDEX_DIR": str(workdir / "index"),
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", ASK_AND_REPORT, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    *_, last = result.stdout.strip().splitlines() or [""]
    return result, json.loads(last) if last.startswith("{") else {}


def test_onnx_vectors_agree_with_sentence_transformers(pristine: Path, embedder: Embedder) -> None:
    """Every sentence of the seed index, and odd questions, encode alike both ways."""
    store = open_index(
        pristine / "index",
        model_name=embedder.info.name,
        chunking=settings_for(pristine).index_setup().chunking,
    )
    try:
        assert store.query_encoder is not None
        assert store.manifest.query_encoder is not None
        assert store.manifest.query_encoder.min_cosine >= MIN_COSINE
        texts = [store.metadata.sentence(i).text for i in range(store.sentence_count)]
        texts += [QUESTION, "", "x " * 2000, "<b>&</i> 😀\u202e", "Who?"]
        expected = embedder.embed(texts)
        got = np.vstack([store.query_encoder.embed_query(text) for text in texts])
        assert got.shape == expected.shape and got.dtype == np.float32
        cosines = np.sum(got * expected, axis=1)
        assert cosines.min() >= MIN_COSINE, texts[int(np.argmin(cosines))]
    finally:
        store.close()


def test_a_disagreeing_encoder_fails_the_build_check(pristine: Path) -> None:
    """Vectors of other sentences stand in for a wrong export: the check names the sentence."""
    build = current_build(pristine / "index")
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    from index.analysis.query_encoder import QueryEncoderInfo

    info = QueryEncoderInfo.from_dict(manifest["query_encoder"])
    vectors = np.load(build / "vectors.npy")
    with pytest.raises(QueryEncoderError, match="disagrees with sentence-transformers"):
        check_agreement(build, info, ["The harbour opened.", "Ships arrived."], vectors[[3, 9]])


def test_ask_on_a_built_index_imports_no_torch(pristine: Path, tmp_path: Path) -> None:
    copy_of(pristine, tmp_path)
    result, report = run_cli(tmp_path, "ask", QUESTION)
    assert result.returncode == 0 and report["code"] == 0, result.stderr
    assert "Mustafa Bali" in result.stdout
    assert report["heavy"] == [], result.stdout
    assert result.stderr == ""


def test_the_bot_and_console_load_without_torch(pristine: Path, tmp_path: Path) -> None:
    """What ``telegram`` and ``console`` run before their loops: the engine and their modules."""
    copy_of(pristine, tmp_path)
    code = f"""
import json, sys
from bot.config import Settings
from bot.engine import Engine
import bot.console, bot.telegram.app, bot.telegram.state
engine = Engine.load(Settings(_env_file=None).index_setup(), build_missing=True, query_threads=1)
answer = engine.ask({QUESTION!r})
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print(json.dumps({{"answer": answer.sentence, "heavy": heavy}}))
"""
    env = {**os.environ, "SEEDS_DIR": str(tmp_path / "seeds"), "INDEX_DIR": str(tmp_path / "index")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "Mustafa Bali" in str(report["answer"]) and report["heavy"] == []


def flip_a_byte(path: Path) -> None:
    """Damage the file without changing its size: only its hash can tell."""
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("damage", ["missing", "flipped"])
def test_a_missing_or_damaged_encoder_is_refused_then_remade(
    damage: str, pristine: Path, tmp_path: Path, embedder: Embedder
) -> None:
    build = copy_of(pristine, tmp_path)
    weights = build / QUERY_WEIGHTS_FILE
    if damage == "missing":
        weights.unlink()
    else:
        flip_a_byte(weights)

    result, report = run_cli(tmp_path, "ask", QUESTION)
    assert report["code"] == 1 and "Mustafa" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("newsdesk: ") and str(weights) in line
    assert line.endswith("newsdesk index build"), line
    assert report["heavy"] == []  # refused before anything heavy loaded

    report_of_build = build_setup(settings_for(tmp_path).index_setup(), embedder=embedder)
    assert report_of_build.query_encoder_made == "exported"
    assert report_of_build.embedded == 0  # the vectors were kept: only the encoder was remade
    result, report = run_cli(tmp_path, "ask", QUESTION)
    assert report["code"] == 0 and "Mustafa Bali" in result.stdout, result.stderr


def test_later_builds_keep_the_encoder(pristine: Path, tmp_path: Path, embedder: Embedder) -> None:
    old = copy_of(pristine, tmp_path)
    hashes = json.loads((old / "manifest.json").read_text(encoding="utf-8"))["query_encoder"]
    unchanged = build_setup(settings_for(tmp_path).index_setup(), embedder=embedder)
    assert unchanged.folder == old and unchanged.query_encoder_made == "kept"  # nothing to do
    (tmp_path / "seeds" / "more.txt").write_text(
        "More news\n\nThe council met on Monday, its clerk said.\n", encoding="utf-8"
    )
    report = build_setup(settings_for(tmp_path).index_setup(), embedder=embedder)
    assert report.query_encoder_made == "kept" and report.folder != old
    assert report.query_encoder is not None
    assert report.query_encoder.hashes == hashes["hashes"]
    # --full re-embeds every sentence, but the encoder depends on the model's files alone.
    full = build_setup(settings_for(tmp_path).index_setup(), full=True, embedder=embedder)
    assert full.embedded == full.sentences and full.query_encoder_made == "kept"


def make_it_old(build: Path) -> None:
    """What an index built before the question encoder looks like: no files, no manifest entry."""
    for name in QUERY_FILES:
        (build / name).unlink()
    path = build / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["query_encoder"]
    for name in QUERY_FILES:
        del data["files"][name]
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_an_index_from_before_the_encoder_is_upgraded_without_re_embedding(
    pristine: Path, tmp_path: Path, embedder: Embedder
) -> None:
    make_it_old(copy_of(pristine, tmp_path))
    settings = settings_for(tmp_path)
    store = open_index(settings.index_dir, model_name=settings.embedding_model,
                       chunking=settings.index_setup().chunking)  # fmt: skip
    assert store.query_encoder is None  # it still loads
    store.close()
    with pytest.raises(IndexMismatchError, match=r"no question encoder") as refused:
        Engine.load(settings.index_setup(), embedder=embedder)
    assert describe_error(refused.value).endswith("; update it with: newsdesk index build")

    report = build_setup(settings.index_setup(), embedder=embedder)
    assert report.embedded == 0 and report.query_encoder_made == "exported"
    result, answered = run_cli(tmp_path, "ask", QUESTION)
    assert answered["code"] == 0 and "Mustafa Bali" in result.stdout
    assert answered["heavy"] == []


def test_ask_on_an_old_index_says_so_and_updates_it(pristine: Path, tmp_path: Path) -> None:
    make_it_old(copy_of(pristine, tmp_path))
    result, report = run_cli(tmp_path, "ask", QUESTION)
    assert report["code"] == 0 and "Mustafa Bali" in result.stdout, result.stderr
    assert "no question encoder" in result.stderr and "updating it first" in result.stderr
    assert "torch" in report["heavy"]  # it had to build, so it loaded the model
