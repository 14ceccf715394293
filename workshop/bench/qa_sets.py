"""Question sets the answer benchmarks and the trainer share: news questions and SQuAD.

A ``Case`` is one question with its expected answers (none: the articles do not answer it) and
the article that answers it. ``half`` splits a set by article, so that the questions of one
article are all on the training side or all on the reporting side.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from bot.config import Settings
from index.analysis.embedder import Embedder
from index.errors import NewsdeskError
from index.indexing.builder import build_index
from index.search.searcher import Searcher
from index.storage.store import open_index
from workshop.bench.squad_data import load_squad, write_seeds

BENCH_FOLDER = Path("var/bench")
# The project's own questions: the first 720, then twice 540 more, each over articles the
# earlier ones never used, and 74 general-knowledge questions no news story here answers
# (checked: no article holds both the answer and the question's key words).
NEWS_QUESTIONS = (
    Path(__file__).with_name("data") / "news_questions.jsonl",
    Path(__file__).with_name("data") / "news_questions_2.jsonl",
    Path(__file__).with_name("data") / "news_questions_3.jsonl",
    Path(__file__).with_name("data") / "news_questions_4.jsonl",
    Path(__file__).with_name("data") / "news_questions_5.jsonl",
)
NEWS_ARTICLES = Path("../shared/data/news/articles")
# The seed article: some speaker, date and dialogue questions are about it.
SEED_ARTICLE = Path(__file__).resolve().parents[2] / "seeds" / "raqqa-2017-10-15.txt"
SQUAD_V2 = Path("../shared/data/squad/dev-v2.0-half.json")
# SOURCE.md of the v2 half: these eight are among v1.1 articles 0-23, the tuning split.
SQUAD_V2_TUNING = frozenset(
    {
        "Normans",
        "Computational complexity theory",
        "Huguenot",
        "Steam engine",
        "1973 oil crisis",
        "European Union law",
        "Packet switching",
        "Warsaw",
    }
)


@dataclass(frozen=True)
class Case:
    text: str
    answers: tuple[str, ...]  # empty: the articles do not answer it
    article: str | None  # key of the article (or SQuAD paragraph) that answers it
    group: str  # what a split keeps together: the article, or the SQuAD title
    kind: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def news_cases(paths: Path | tuple[Path, ...] = NEWS_QUESTIONS) -> list[Case]:
    """The project's own questions over the news articles (JSON Lines, see the README)."""
    if isinstance(paths, tuple):
        return [case for path in paths for case in news_cases(path)]
    path = paths
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise NewsdeskError(f"question file {path} is unreadable ({error})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = tuple(str(a) for a in row.get("answer") or row.get("answers") or ())
            article = row.get("article")
            text = str(row["question"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise NewsdeskError(f"{path}:{number} is not a question line ({error})") from None
        group = article or f"none-{text}"
        cases.append(Case(text, answers, article if answers else None, group, row.get("kind", "")))
    return cases


def half(cases: list[Case], side: int) -> list[Case]:
    """Side 0 (training) or 1 (reporting) of a split by ``Case.group``, stable across runs."""
    return [case for case in cases if _side(case.group) == side]


def _side(group: str) -> int:
    return hashlib.sha256(group.encode()).digest()[0] % 2


def squad_cases(path: Path, articles: slice = slice(None)) -> list[Case]:
    """SQuAD questions as cases grouped by article title (v2's unanswerable ones included)."""
    squad = load_squad(path, articles)
    first = articles.start or 0
    return [
        Case(
            q.text,
            q.answers,
            q.paragraph_key if q.answers else None,
            squad.titles[q.article - first],
        )
        for q in squad.questions
    ]


def squad_seeds(path: Path, folder: Path, articles: slice = slice(None)) -> Path:
    """Write the SQuAD paragraphs as seeds (one article each) and return the folder."""
    write_seeds(load_squad(path, articles), folder)
    return folder


def bench_searcher(
    name: str, seeds: Path, settings: Settings, embedder: Embedder, *, fresh: bool = False
) -> Searcher:
    """Build (incrementally) and open the benchmark index ``var/bench/NAME`` over ``seeds``."""
    folder = BENCH_FOLDER / name / "index"
    build_index(seeds, folder, embedder, replace(settings.index_setup().build, full=fresh))
    store = open_index(
        folder, model_name=embedder.info.name, chunking=settings.index_setup().chunking
    )
    return Searcher(store)  # questions encoded as the front ends encode them (ONNX)


def squad_searcher(
    path: Path, name: str, settings: Settings, embedder: Embedder, *, fresh: bool = False
) -> Searcher:
    """The index of every paragraph of a SQuAD file, one article each."""
    seeds = squad_seeds(path, BENCH_FOLDER / name / "seeds")
    return bench_searcher(name, seeds, settings, embedder, fresh=fresh)


def share_file(source: Path, target: Path) -> None:
    """``source`` at ``target`` too, as a hard link (or a copy keeping its times): a build reads
    no symbolic link that leads out of its seeds folder."""
    if target.is_symlink():
        target.unlink()  # made by an older bench: now skipped by the build
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def news_and_seed_searcher(settings: Settings, embedder: Embedder, articles: Path) -> Searcher:
    """The news articles plus the seed article, indexed once in ``var/bench/news-seed``.

    The speaker, date and dialogue benches all ask over it. The articles are hard-linked (a
    symbolic link out of the seeds folder is not read), and the index starts as a copy of the
    news bench's (same files, same keys), so only the seed article is embedded, not 32,000
    sentences again.
    """
    root = BENCH_FOLDER / "news-seed"
    seeds = root / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in [*sorted(articles.iterdir()), SEED_ARTICLE]:
        if path.is_file():
            share_file(path, seeds / path.name)
    news_index, index = BENCH_FOLDER / "news" / "index", root / "index"
    if not index.exists() and news_index.is_dir():
        shutil.copytree(news_index, index, symlinks=True)
    return bench_searcher("news-seed", seeds, settings, embedder)
