"""The users' verdicts on answers: one JSON line per 👍 or 👎, kept beside the index's builds.

The log is ``INDEX_DIR/feedback.jsonl``, outside every build folder, so a rebuild (which
replaces and deletes builds) keeps it. Each line holds the time (UTC), a keyed hash of the chat
(never its id), the question and its type, the answer sentence, its source and confidence, the
index build that answered, the answer's id and the vote. Long texts are cut, so one line is
never over ``MAX_LINE_BYTES`` and no single vote can crowd the others out of the bounded log.

The chat's pseudonym is an HMAC keyed with a secret made once beside the log (``KEY_FILE``,
mode 0600): an unkeyed hash of a chat id is undone in a second by hashing every likely id.

Writes take a thread lock and an ``flock`` on a sidecar file, so the bot's worker threads, a
console and a bot sharing the folder never interleave; each line is written whole or not at all
(``bot/line_file.py``), so a full disk never leaves half a vote to swallow the next one.

The log is bounded: once past ``max_bytes`` it is rewritten (a new file renamed over the old)
with one line per answer and chat, the latest, so pressing a button again replaces that chat's
earlier vote and never pushes out other people's. Only if the distinct votes still fill more
than three quarters are the oldest dropped, down to half.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.line_file import append_line, replace_lines, write_private
from index.answering.results import Answer
from index.errors import NewsdeskError

FEEDBACK_FILE = "feedback.jsonl"
KEY_FILE = ".feedback.key"  # beside the log, outside the builds: rebuilds keep it
KEY_BYTES = 32
GOOD, BAD = "good", "bad"
VOTES = (GOOD, BAD)
# Characters kept of each text; the rest is cut. Even with every character escaped in JSON
# (six bytes each) a vote stays under MAX_LINE_BYTES.
TEXT_LIMITS = {"question": 500, "sentence": 1000, "title": 200, "article": 300}
SHORT_LIMIT = 64  # times, pseudonyms, ids, the question type, the date
MAX_LINE_BYTES = 16 * 1024
# A vote's fields, in the order written, with the type each has when present.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "time": str,
    "chat": str,
    "answer_id": str,
    "vote": str,
    "question": str,
    "question_type": str,
    "found": bool,
    "sentence": str,
    "source": dict,
    "confidence": (float, int),
    "build_id": str,
}
_SOURCE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "date": str,
    "paragraph": int,
    "article": str,
}
# Answer types -> the news benchmark's question kinds (workshop/bench/data/news_questions.jsonl).
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

logger = logging.getLogger(__name__)


class FeedbackLogError(NewsdeskError):
    """The feedback log (or its key) cannot be read or written: a folder, a read-only disk."""


def feedback_log_of(settings: Settings) -> FeedbackLog:
    """The log of the index in the settings, bounded by ``FEEDBACK_MAX_MB``."""
    return FeedbackLog(settings.index_dir / FEEDBACK_FILE, int(settings.feedback_max_mb * 2**20))


def chat_hash(chat: int | str, key: bytes) -> str:
    """A stable pseudonym for a chat: the start of an HMAC-SHA-256 of its id, never the id."""
    return hmac.new(key, f"newsdesk-chat:{chat}".encode(), hashlib.sha256).hexdigest()[:16]


def vote_record(
    answer: Answer, vote: str, *, chat: str, answer_id: str, build_id: str
) -> dict[str, Any]:
    """The JSON object one vote appends to the log (``chat``: its pseudonym), texts cut."""
    if vote not in VOTES:
        raise ValueError(f"a vote is one of {VOTES}, not {vote!r}")
    source = answer.source
    where = None
    if source is not None:
        where = {
            "title": source.title,
            "date": source.date,
            "paragraph": int(source.paragraph),
            "article": source.key or source.path,
        }
    row = vote_of(
        {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "chat": chat,
            "answer_id": answer_id,
            "vote": vote,
            "question": answer.question,
            "question_type": answer.refusal or answer.question_type,
            "found": bool(answer.found),
            "sentence": answer.sentence,
            "source": where,
            "confidence": float(answer.confidence),
            "build_id": build_id,
        }
    )
    assert row is not None  # built above from an Answer's typed fields
    return row


def vote_of(row: object) -> dict[str, Any] | None:
    """``row`` as a vote with its texts cut, or None when it is not a whole vote (a damaged or
    hand-edited line: a field of the wrong type)."""
    if not isinstance(row, dict) or row.get("vote") not in VOTES:
        return None
    vote = _typed(row, _FIELDS)
    if vote is None or vote["source"] is None:
        return vote
    vote["source"] = _typed(vote["source"], _SOURCE_FIELDS)
    return vote if vote["source"] is not None else None


def _typed(
    row: dict[Any, Any], fields: dict[str, type | tuple[type, ...]]
) -> dict[str, Any] | None:
    """The ``fields`` of ``row`` in their order, texts cut (None if absent); None if one has
    another type (``True`` is no number here, though Python makes it an int)."""
    typed = {}
    for name, kind in fields.items():
        value = row.get(name)
        if value is not None and (
            not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
        ):
            return None
        typed[name] = _cut(value, name) if isinstance(value, str) else value
    return typed


def _cut(text: str | None, name: str) -> str | None:
    limit = TEXT_LIMITS.get(name, SHORT_LIMIT)
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _encoded(row: dict[str, Any]) -> bytes:
    # A lone surrogate (which a Telegram update can carry) has no UTF-8: it becomes "?".
    return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")


def _parsed(line: bytes) -> object:
    """The JSON value of one line, or None: a line nested past the parser's depth is not JSON."""
    try:
        return json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def _is_vote(line: bytes) -> bool:
    return vote_of(_parsed(line)) is not None


def _lines(data: bytes) -> Iterator[bytes]:
    # Split on "\n" only: a question may hold U+2028 or U+0085, which str.splitlines breaks on.
    return (line for line in data.split(b"\n") if line.strip())


@dataclass(frozen=True)
class LogRead:
    """What reading the log found: every whole vote, oldest first, and the lines skipped."""

    votes: list[dict[str, Any]]
    skipped: int


class FeedbackLog:
    """The append-only, size-bounded log of votes in ``path``."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.key_path = path.with_name(KEY_FILE)
        self._lock = threading.Lock()
        self._key: bytes | None = None

    def record(
        self, answer: Answer, vote: str, *, chat: int | str, answer_id: str, build_id: str
    ) -> None:
        """Append one vote (blocking file I/O: call it off the event loop); trims if over.

        Raises ``FeedbackLogError`` when the vote could not be written whole (nothing of it is
        left in the log then).
        """
        try:
            with self._lock, self._file_lock():
                pseudonym = chat_hash(chat, self._secret())
                row = vote_record(answer, vote, chat=pseudonym, answer_id=answer_id,
                                  build_id=build_id)  # fmt: skip
                append_line(self.path, _encoded(row), _is_vote)
                if self.path.stat().st_size > self.max_bytes:
                    self._trim()
        except OSError as error:
            raise FeedbackLogError(_problem("cannot write", self.path, error)) from error

    def chat_hash(self, chat: int | str) -> str:
        """The pseudonym this log gives ``chat`` (its key is made on first use)."""
        try:
            with self._lock, self._file_lock():
                return chat_hash(chat, self._secret())
        except OSError as error:
            raise FeedbackLogError(_problem("cannot write", self.path, error)) from error

    def read(self) -> LogRead:
        """Every whole vote, oldest first, and how many lines were not one (damaged, edited).

        Raises ``FeedbackLogError`` when the log is there but cannot be read (a folder).
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return LogRead([], 0)
        except OSError as error:
            raise FeedbackLogError(_problem("cannot read", self.path, error)) from error
        votes, skipped = [], 0
        for line in _lines(data):
            vote = vote_of(_parsed(line))
            if vote is None:
                skipped += 1
            else:
                votes.append(vote)
        return LogRead(votes, skipped)

    def votes(self) -> list[dict[str, Any]]:
        """Every whole vote, oldest first; a line that is not one is skipped."""
        return self.read().votes

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

    def _secret(self) -> bytes:
        """The HMAC key beside the log, made once (under the file lock, so by one process)."""
        if self._key is None:
            try:
                key = self.key_path.read_bytes()
            except FileNotFoundError:
                key = secrets.token_bytes(KEY_BYTES)
                write_private(self.key_path, key)
            if len(key) < KEY_BYTES // 2:
                raise FeedbackLogError(
                    f"the feedback key {self.key_path} is damaged; delete it to make a new one "
                    "(chats voting after that get new pseudonyms)"
                )
            self._key = key
        return self._key

    def _trim(self) -> None:
        """Rewrite the log as ``trimmed`` says. A failure leaves it whole, and the vote in."""
        try:
            replace_lines(self.path, trimmed(self.path.read_bytes(), self.max_bytes))
        except OSError as error:  # the next vote tries again
            logger.warning("could not trim the feedback log %s: %s", self.path, error)


def trimmed(data: bytes, max_bytes: int) -> list[bytes]:
    """The lines of a log over ``max_bytes`` to keep: the latest vote of each answer and chat;
    the newest of them that fit in half of ``max_bytes`` if they fill more than three quarters,
    and never fewer than one. Lines that are not whole votes go; long ones are cut."""
    entries: list[tuple[object, bytes]] = []
    for number, line in enumerate(_lines(data)):
        vote = vote_of(_parsed(line))
        if vote is None:
            continue  # no reader counts it either
        line = line + b"\n" if len(line) < MAX_LINE_BYTES else _encoded(vote)
        answer_id = vote["answer_id"]
        entries.append(((vote["chat"], answer_id) if answer_id else number, line))
    last = {key: index for index, (key, _) in enumerate(entries)}
    kept = [line for index, (key, line) in enumerate(entries) if last[key] == index]
    if sum(len(line) for line in kept) <= max_bytes * 3 // 4:
        return kept
    newest: list[bytes] = []
    size = 0
    for line in reversed(kept):
        if newest and size + len(line) > max_bytes // 2:
            break
        newest.append(line)
        size += len(line)
    return newest[::-1]


def _problem(doing: str, path: Path, error: OSError) -> str:
    """One line on what stops the log being read or written, naming the culprit."""
    if path.is_dir():
        return f"{doing} the feedback log: {path} is a folder, not a file; move it aside"
    if path.parent.exists() and not path.parent.is_dir():
        return f"{doing} the feedback log {path}: {path.parent} is a file, not a folder"
    reason = error.strerror or type(error).__name__
    if error.filename and str(error.filename) != str(path):  # the lock, the key
        reason += f": {error.filename}"
    return f"{doing} the feedback log {path} ({reason})"


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
                "rejected": {
                    "sentence": row.get("sentence") or "",
                    "article": source.get("article"),
                },
            }
        )
    return rows
