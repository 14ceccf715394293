"""The build's progress: steps from the library, one display in the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

from bot.build_progress import BuildDisplay
from index.analysis.embedder import Embedder
from index.indexing.builder import BuildOptions, build_index
from index.indexing.progress import BuildProgress, count_articles
from tests.test_cli import newsdesk


def test_a_build_reports_every_step_against_a_total_counted_first(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    with (seeds / "more.jsonl").open("w") as lines:
        for number in range(3):
            lines.write(json.dumps({"title": f"Story {number}", "text": "It rained. It poured."}))
            lines.write("\n")
    (seeds / "notes.pdf").write_bytes(b"%PDF")
    assert count_articles(seeds) == 4
    steps: list[BuildProgress] = []
    build_index(seeds, tmp_path / "index", embedder, BuildOptions(on_progress=steps.append))
    done = [step.articles_done for step in steps]
    assert done == sorted(done)
    assert {step.stage for step in steps} >= {"embedding", "tagging", "indexing", "done"}
    assert steps[-1].stage == "done"
    assert steps[-1].articles_total == 4 and steps[-1].sentences == 16 + 6


def test_off_a_terminal_the_display_writes_lines_of_words() -> None:
    out = io.StringIO()
    display = BuildDisplay(terminal=False, stream=out)
    display(BuildProgress("embedding", 0.0, 1848, 0))
    display(BuildProgress("embedding", 100.0, 1848, 2000))  # within LINE_SECONDS: not shown
    display(BuildProgress("done", 1848, 1848, 32488))
    lines = out.getvalue().splitlines()
    assert lines[0] == "embedding: 0 of 1,848 articles, 0 sentences"
    assert lines[-1].startswith("done: 1,848 articles, 32,488 sentences in ")
    assert len(lines) == 2


def test_index_build_prints_its_progress_in_a_log(seeds: Path, tmp_path: Path) -> None:
    built = newsdesk("index", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "done: 1 article, 16 sentences in " in built.stderr
