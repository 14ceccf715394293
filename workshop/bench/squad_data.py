"""SQuAD v1.1 as Newsdesk seeds: each paragraph an article under its Wikipedia title."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.errors import NewsdeskError

DEFAULT_SQUAD = Path("../shared/data/squad/dev-v1.1.json")


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]
    article: int  # index of the SQuAD article
    paragraph_key: str  # the seeds article id of its paragraph


@dataclass(frozen=True)
class SquadSet:
    titles: list[str]
    paragraphs: dict[str, tuple[str, str]]  # article id -> (title, context)
    questions: list[Question]


def load_squad(path: Path, articles: slice = slice(None)) -> SquadSet:
    """Read a SQuAD-format file, keeping the articles in ``articles``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except FileNotFoundError:
        raise NewsdeskError(f"SQuAD file {path} not found") from None
    except (ValueError, KeyError) as error:
        raise NewsdeskError(f"{path} is not a SQuAD file ({error})") from None
    titles, paragraphs, questions = [], {}, []
    for number in range(len(data))[articles]:
        article = data[number]
        title = article["title"].replace("_", " ")
        titles.append(title)
        for p_number, paragraph in enumerate(article["paragraphs"]):
            key = f"{number:02d}.jsonl#{p_number + 1}"
            paragraphs[key] = (title, paragraph["context"])
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(Question(qa["question"], answers, number, key))
    return SquadSet(titles, paragraphs, questions)


def write_seeds(squad: SquadSet, folder: Path) -> None:
    """One JSON Lines file per SQuAD article, one line per paragraph (ids match ``Question``)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    for key, (title, context) in squad.paragraphs.items():
        name = key.split("#")[0]
        files.setdefault(name, []).append(json.dumps({"title": title, "text": context}))
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_slice(text: str) -> slice:
    """``"0:24"`` -> ``slice(0, 24)``; empty parts are open ends."""
    try:
        start, _, stop = text.partition(":")
        return slice(int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise NewsdeskError(f"--articles takes START:STOP, like 0:24 (got '{text}')") from None
