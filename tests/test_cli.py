"""The command line driven for real, in subprocesses, as a person would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def newsdesk(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_index_build_and_info(seeds: Path, tmp_path: Path) -> None:
    built = newsdesk("index", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "1 added, 0 changed, 0 removed, 0 unchanged" in built.stdout
    assert "16 sentences (16 embedded)" in built.stdout
    assert (tmp_path / "var" / "index" / "current").is_symlink()

    info = newsdesk("index", "info", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "All Syrian IS fighters leave Raqa: monitor (2017-10-15)" in info.stdout
    assert "exact inner-product search" in info.stdout

    (seeds / "junk.bin").write_bytes(b"\x00\x01")
    again = newsdesk("index", "build", cwd=tmp_path)
    assert again.returncode == 0
    assert "0 added, 0 changed, 0 removed, 1 unchanged" in again.stdout
    assert "warning: skipped junk.bin: unknown kind of file '.bin'" in again.stderr


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    no_articles = newsdesk("index", "build", cwd=tmp_path, SEEDS_DIR="empty")
    assert no_articles.returncode == 1
    assert no_articles.stderr.strip() == (
        "newsdesk: no article found in empty: add .txt, .md, .html or .jsonl files"
    )

    no_index = newsdesk("index", "info", cwd=tmp_path)
    assert no_index.returncode == 1
    assert "no index in var/index yet; build it with: newsdesk index build" in no_index.stderr

    bad_setting = newsdesk("index", "info", cwd=tmp_path, EMBEDDING_BATCH_SIZE="many")
    assert bad_setting.returncode == 2
    assert bad_setting.stderr.startswith("newsdesk: bad setting EMBEDDING_BATCH_SIZE")
    for result in (no_articles, no_index, bad_setting):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_control_characters_from_articles_never_reach_the_terminal(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "harbour.txt").write_text(
        "Harbour \x1b]0;pwned\x07news\x1b[2J\n\n"
        "The harbour master Ann Lee said the new quay opened on Monday.\x1b[31m\n",
        encoding="utf-8",
    )
    built = newsdesk("index", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "Added: harbour.txt" in built.stdout
    for args in (("ask", "Who opened the new quay?"), ("index", "info")):
        result = newsdesk(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "Harbour ]0;pwnednews[2J" in result.stdout
