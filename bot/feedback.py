"""The users' verdicts on answers: one JSON line per 👍 or 👎, kept beside the index's builds.

The log is ``INDEX_DIR/feedback.jsonl``, outside every build folder, so a rebuild (which
replaces and deletes builds) keeps it. Each line holds the time (UTC), a hash of the chat
(never its id), the question and its type, the answer sentence, its source and confidence, the
index build that answered, the answer's id and the vote.

Voting twice on one answer records both lines; the latest vote wins in ``summarise`` (a user
who changes their mind is heard, nothing is overwritten in place). Writes take a thread lock
and an ``flock`` on a sidecar file, so the bot's worker threads, a console and a bot sharing
the folder never interleave or lose lines. The log is bounded: once past ``max_bytes`` the
oldest lines are dropped until half remains, by writing a new file and renaming it over the
old one, so a crash mid-trim leaves the old log whole.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from index.answering.answer import Answer

FEEDBACK_FILE = "feedback.jsonl"
GOOD, BAD = "good", "bad"
VOTES = (GOOD, BAD)
# Answer types -> the news benchmark's question kinds (bot/bench/data/news_questions.jsonl).
_BENCH_KINDS = {
    "person": "who",
    "organisation": "which_org",
    "place": "where",
    "date": "when",
    "number": "how_many",
    "money": "how_much",
    "percent": "how_much",
    "statement": "what_said",
    "description": "who_is",
}


def feedback_log_of(settings: Settings) -> FeedbackLog:
    """The log of the index in the settings, bounded by ``FEEDBACK_MAX_MB``."""
    return FeedbackLog(settings.index_dir / FEEDBACK_FILE, int(settings.feedback_max_mb * 2**20))


def chat_hash(chat: int | str) -> str:
    """A stable pseudonym for a chat: the start of the SHA-256 of its id, never the id."""
    return hashlib.sha256(f"newsdesk-chat:{chat}".encode()).hexdigest()[:16]


def vote_record(
    answer: Answer, vote: str, *, chat: int | str, answer_id: str, build_id: str
) -> dict[str, Any]:
    """The JSON object one vote appends to the log."""
    if vote not in VOTES:
        raise ValueError(f"a vote is one of {VOTES}, not {vote!r}")
    source = answer.source
    where = None
    if source is not None:
        where = {
            "title": source.title,
            "date": source.date,
            "paragraph": source.paragraph,
            "article": source.key or source.path,
        }
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "chat": chat_hash(chat),
        "answer_id": answer_id,
        "vote": vote,
        "question": answer.question,
        "question_type": answer.refusal or answer.question_type,
        "found": answer.found,
        "sentence": answer.sentence,
        "source": where,
        "confidence": answer.confidence,
        "build_id": build_id,
    }


class FeedbackLog:
    """The append-only, size-bounded log of votes in ``path``."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def record(
        self, answer: Answer, vote: str, *, chat: int | str, answer_id: str, build_id: str
    ) -> None:
        """Append one vote (blocking file I/O: call it off the event loop); trims if over."""
        line = json.dumps(
            vote_record(answer, vote, chat=chat, answer_id=answer_id, build_id=build_id),
            ensure_ascii=False,
        )
        with self._lock, self._file_lock():
            with self.path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
            if self.path.stat().st_size > self.max_bytes:
                self._trim()

    def votes(self) -> list[dict[str, Any]]:
        """Every vote, oldest first; a line that is not a whole vote (hand-edited) is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        votes = []
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row.get("vote") in VOTES:
                votes.append(row)
        return votes

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Across processes: a lock file beside the log (the log itself is replaced by trims)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / (self.path.name + ".lock")).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _trim(self) -> None:
        """Keep the newest lines that fit in half of ``max_bytes``; atomic by rename."""
        lines = self.path.read_bytes().splitlines(keepends=True)
        kept: list[bytes] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > self.max_bytes // 2:
                break
            kept.append(line)
            size += len(line)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            out.writelines(reversed(kept))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


def latest_votes(votes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One vote per answer and chat: the latest (a second press changes the verdict)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for number, row in enumerate(votes):
        key = (str(row.get("chat")), str(row.get("answer_id") or f"line-{number}"))
        latest.pop(key, None)  # re-inserted last, so the order stays that of the latest votes
        latest[key] = row
    return list(latest.values())


@dataclass(frozen=True)
class FeedbackSummary:
    votes: int  # answers voted on (latest vote each)
    by_type: dict[str, Counter[str]]  # question type -> {"good": n, "bad": n}


def summarise(votes: list[dict[str, Any]]) -> FeedbackSummary:
    """👍 and 👎 counts by question type, each answer counted once (its latest vote)."""
    by_type: dict[str, Counter[str]] = {}
    latest = latest_votes(votes)
    for row in latest:
        by_type.setdefault(str(row.get("question_type") or "other"), Counter())[row["vote"]] += 1
    return FeedbackSummary(len(latest), dict(sorted(by_type.items())))


def bad_questions(votes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 👎 questions as lines of the news benchmark's question file, for a person to finish.

    ``answer`` and ``sentence`` are left empty: the bot's sentence was judged wrong, so it is
    kept apart as ``rejected`` (with its article) rather than offered as the right one.
    """
    rows, seen = [], set()
    for row in latest_votes(votes):
        question = str(row.get("question") or "").strip()
        if row["vote"] != BAD or not question or question in seen:
            continue
        seen.add(question)
        source = row.get("source") or {}
        rows.append(
            {
                "article": "",
                "question": question,
                "answer": [],
                "sentence": "",
                "kind": _BENCH_KINDS.get(str(row.get("question_type")), "what"),
                "rejected": {"sentence": row.get("sentence", ""), "article": source.get("article")},
            }
        )
    return rows
