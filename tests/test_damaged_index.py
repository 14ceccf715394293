"""A damaged index through the real command line: one line naming the file, never an answer.

The index is built once for real; each test damages a copy of it the way a disk, a person with
an editor or a change of model would, then runs ``python -m bot ask`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.runtime import build_setup
from index.analysis.embedder import Embedder
from tests.conftest import SEED_ARTICLE

QUESTION = "Who said the final battle could take hours or days?"
REBUILD = "newsdesk index build --full"

Damage = Callable[[Path], None]  # damages the build folder it is given


@pytest.fixture(scope="module")
def pristine(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds and a whole index built from them, copied (never changed) by each test."""
    root = tmp_path_factory.mktemp("damaged")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_ARTICLE, seeds / SEED_ARTICLE.name)
    settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=root / "index")
    build_setup(settings.index_setup(), embedder=embedder)
    return root


def copy_of(pristine: Path, into: Path) -> Path:
    """A private copy of seeds and index (``current`` is a relative link, kept as one)."""
    shutil.copytree(pristine / "seeds", into / "seeds")
    shutil.copytree(pristine / "index", into / "index", symlinks=True)
    return (into / "index" / "current").resolve()


def ask(workdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SEEDS_DIR": str(workdir / "seeds"),
        "INDEX_DIR": str(workdir / "index"),
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", QUESTION],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def edit_manifest(build: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = build / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


def truncated_faiss(build: Path) -> None:
    path = build / "sentences.faiss"
    truncate(path, path.stat().st_size // 2)


def truncated_faiss_with_matching_size(build: Path) -> None:
    """The size check cannot catch it: FAISS itself must fail, and say so in one line."""
    truncated_faiss(build)
    size = (build / "sentences.faiss").stat().st_size
    edit_manifest(build, lambda data: data["files"].__setitem__("sentences.faiss", size))


def manifest_not_json(build: Path) -> None:
    text = (build / "manifest.json").read_text(encoding="utf-8")
    (build / "manifest.json").write_text(text[: len(text) // 2], encoding="utf-8")


def manifest_sentence_count(build: Path) -> None:
    edit_manifest(build, lambda data: data["counts"].__setitem__("sentences", 15))


def manifest_passage_count(build: Path) -> None:
    edit_manifest(build, lambda data: data["counts"].__setitem__("passages", 99))


def manifest_article_count(build: Path) -> None:
    edit_manifest(build, lambda data: data["counts"].__setitem__("articles", 3))


def manifest_count_removed(build: Path) -> None:
    edit_manifest(build, lambda data: data["counts"].pop("sentences"))


def manifest_file_size(build: Path) -> None:
    edit_manifest(build, lambda data: data["files"].__setitem__("vectors.npy", 1234))


def manifest_file_unlisted(build: Path) -> None:
    edit_manifest(build, lambda data: data["files"].pop("meta.sqlite"))


def metadata_missing(build: Path) -> None:
    (build / "meta.sqlite").unlink()


def metadata_garbage(build: Path) -> None:
    """Not a database, with the manifest edited to its size: SQLite must refuse it."""
    (build / "meta.sqlite").write_bytes(b"\x00garbage" * 512)
    edit_manifest(build, lambda data: data["files"].__setitem__("meta.sqlite", 8 * 512))


def vectors_missing(build: Path) -> None:
    (build / "vectors.npy").unlink()


def other_model_name(build: Path) -> None:
    edit_manifest(build, lambda data: data["model"].__setitem__("name", "all-mpnet-base-v2"))


def other_model_fingerprint(build: Path) -> None:
    edit_manifest(build, lambda data: data["model"].__setitem__("fingerprint", "0123456789abcdef"))


CASES: list[tuple[Damage, str]] = [
    (truncated_faiss, "sentences.faiss"),
    (truncated_faiss_with_matching_size, "sentences.faiss"),
    (manifest_not_json, "manifest.json"),
    (manifest_sentence_count, "vectors.npy"),
    (manifest_passage_count, "passage_sentences.npy"),
    (manifest_article_count, "manifest.json"),
    (manifest_count_removed, "manifest.json"),
    (manifest_file_size, "vectors.npy"),
    (manifest_file_unlisted, "manifest.json"),
    (metadata_missing, "meta.sqlite"),
    (metadata_garbage, "meta.sqlite"),
    (vectors_missing, "vectors.npy"),
    (other_model_name, "manifest.json"),
    (other_model_fingerprint, "manifest.json"),
]


@pytest.mark.parametrize(("damage", "named_file"), CASES, ids=[c[0].__name__ for c in CASES])
def test_damaged_index_fails_in_one_line(
    damage: Damage, named_file: str, pristine: Path, tmp_path: Path
) -> None:
    build = copy_of(pristine, tmp_path)
    damage(build)
    damaged = sorted((p.name, p.stat().st_size) for p in build.rglob("*") if p.is_file())

    result = ask(tmp_path)

    assert result.returncode != 0
    assert result.stdout == ""  # never an answer from a damaged index
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert line.startswith("newsdesk: ") and "Traceback" not in line
    assert str(build / named_file) in line, line
    assert line.endswith(REBUILD), line
    # Nor was it silently rebuilt: the same build is live, still as damaged as it was left.
    assert (tmp_path / "index" / "current").resolve() == build
    assert sorted((p.name, p.stat().st_size) for p in build.rglob("*") if p.is_file()) == damaged


def test_the_undamaged_copy_answers(pristine: Path, tmp_path: Path) -> None:
    """The same harness on a whole copy answers, so the failures above are the damage's."""
    copy_of(pristine, tmp_path)
    result = ask(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("**Mustafa Bali**")
