"""The feedback log: one line per vote, bounded, safe from threads; its summary and export."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.console import Console
from bot.engine import Engine
from bot.feedback import (
    BAD,
    FEEDBACK_FILE,
    GOOD,
    KEY_FILE,
    MAX_LINE_BYTES,
    FeedbackLog,
    bad_questions,
    feedback_log_of,
    latest_votes,
    summarise,
)
from bot.reports import describe_feedback
from bot.telegram.app import build_application
from bot.telegram.handlers import VOTE_NOT_RECORDED
from index.answering.results import Answer
from tests.conftest import bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

QUESTION = "Who said the final battle could take hours or days?"
ALICE = 1002


def newsdesk(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def counted(index: Path) -> int:
    """How many answers ``newsdesk feedback`` says were voted on in ``index``'s log."""
    report = newsdesk("feedback", cwd=index.parent, INDEX_DIR=str(index))
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    return int(report.stdout.split(" answer")[0])


@pytest.fixture(scope="module")
def answers(seed_engine: Engine) -> dict[str, Answer]:
    return {
        "found": seed_engine.ask(QUESTION),
        "number": seed_engine.ask("How many civilians left?"),
        "declined": seed_engine.ask("What is the capital of Australia?"),
        "spanish": seed_engine.ask("¿Cuántos civiles salieron de Raqqa?"),
    }


def test_a_vote_is_one_line_with_a_hashed_chat(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], GOOD, chat=424242, answer_id="abc", build_id="b1")
    [line] = (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()
    row = json.loads(line)
    assert "424242" not in line
    assert row["chat"] == log.chat_hash(424242) and len(row["chat"]) == 16
    assert row["vote"] == "good" and row["question"] == QUESTION
    assert row["sentence"].startswith("Mustafa Bali, the spokesman")
    assert row["source"] == {
        "title": "All Syrian IS fighters leave Raqa: monitor",
        "date": "2017-10-15",
        "paragraph": 2,
        "article": "raqqa-2017-10-15.txt",
    }
    assert 0 < row["confidence"] <= 1 and row["build_id"] == "b1"
    assert row["question_type"] == "person" and row["time"].endswith("+00:00")


def test_the_log_lives_beside_the_builds(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", feedback_max_mb=0.5)
    log = feedback_log_of(settings)
    assert log.path == tmp_path / "index" / "feedback.jsonl" and log.max_bytes == 2**19


def test_the_log_is_bounded_and_keeps_the_newest(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 8_000)
    for number in range(200):
        log.record(answers["number"], BAD, chat=number, answer_id=f"a{number}", build_id="b")
        assert log.path.stat().st_size <= 8_000
    votes = log.votes()
    assert 5 < len(votes) < 200
    assert votes[-1]["answer_id"] == "a199"  # the newest stay, in order
    ids = [int(vote["answer_id"][1:]) for vote in votes]
    assert ids == list(range(200 - len(ids), 200))
    assert not list(tmp_path.glob(".feedback.jsonl*"))  # no temporary file left behind


def test_threads_never_interleave_or_lose_votes(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**24)

    def vote(thread: int) -> None:
        for number in range(50):
            log.record(answers["found"], GOOD, chat=thread, answer_id=f"{thread}-{number}",
                       build_id="b")  # fmt: skip

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400 and all(json.loads(line)["vote"] == GOOD for line in lines)


def test_the_latest_vote_wins_and_bad_questions_export(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], BAD, chat=1, answer_id="x", build_id="b")
    log.record(answers["found"], GOOD, chat=1, answer_id="x", build_id="b")  # changed its mind
    log.record(answers["found"], BAD, chat=2, answer_id="y", build_id="b")  # another chat
    log.record(answers["number"], GOOD, chat=1, answer_id="z", build_id="b")
    log.record(answers["declined"], BAD, chat=1, answer_id="w", build_id="b")
    log.record(answers["spanish"], BAD, chat=1, answer_id="v", build_id="b")
    summary = summarise(log.votes())
    assert summary.votes == 5
    assert {kind: dict(c) for kind, c in summary.by_type.items()} == {
        "person": {"good": 1, "bad": 1},
        "number": {"good": 1},
        "place": {"bad": 1},
        "not_english": {"bad": 1},
    }
    text = describe_feedback(summary)
    assert text.startswith("5 answers voted on: 2 👍, 3 👎")
    assert "person" in text and "50%" in text

    exported = bad_questions(log.votes())
    assert [row["question"] for row in exported] == [
        QUESTION,
        "What is the capital of Australia?",
        "¿Cuántos civiles salieron de Raqqa?",
    ]
    first = exported[0]
    assert set(first) == {"article", "question", "answer", "sentence", "kind", "rejected"}
    assert first["answer"] == [] and first["sentence"] == "" and first["kind"] == "who"
    assert first["rejected"]["article"] == "raqqa-2017-10-15.txt"


def test_unreadable_lines_are_skipped(tmp_path: Path, answers: dict[str, Answer]) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    log.path.write_text('{"vote": "good", "question": "half a li\nnot json\n[1]\n')
    log.record(answers["found"], GOOD, chat=1, answer_id="x", build_id="b")
    assert [vote["answer_id"] for vote in log.votes()] == ["x"]


def test_console_good_and_bad(seed_engine: Engine, tmp_path: Path) -> None:
    said: list[str] = []
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    console = Console(seed_engine, said.append, colour=False, feedback=log)
    console.handle(":good")
    assert said[-1] == "Ask a question first." and not log.exists()
    console.handle(QUESTION)
    console.handle(":good")
    assert said[-1].startswith("Thanks: noted 👍")
    [vote] = log.votes()
    assert vote["vote"] == "good" and vote["question"] == QUESTION
    assert vote["build_id"] == seed_engine.store.manifest.build_id
    console.handle(":bad")  # the same answer: recorded, and the latest wins
    assert summarise(log.votes()).votes == 1
    assert summarise(log.votes()).by_type["person"] == {"bad": 1}
    console.handle("How many civilians left?")
    console.handle(":bad")
    assert summarise(log.votes()).votes == 2


def test_one_huge_vote_is_cut_and_empties_nothing(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    """Issue 25: one vote over half of FEEDBACK_MAX_MB emptied the log (200 -> 0 votes)."""
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 256 * 1024)
    for number in range(200):
        log.record(answers["found"], GOOD, chat=number, answer_id=f"a{number}", build_id="b")
    before = counted(tmp_path)
    # Control characters take six bytes each in JSON: the worst case for the line's size.
    huge = replace(answers["found"], question="Why" + "\x01" * 2**20, sentence="S" * 2**20)
    log.record(huge, BAD, chat="big", answer_id="huge", build_id="b")
    assert (before, counted(tmp_path)) == (200, 201)
    assert len(log.path.read_bytes().splitlines()[-1]) < MAX_LINE_BYTES
    cut = log.votes()[-1]
    assert cut["question"].startswith("Why\x01") and cut["question"].endswith("…")
    assert len(cut["question"]) == 500 and len(cut["sentence"]) == 1000

    # A huge line an older version wrote: the trim cuts it instead of dropping everything.
    legacy = {"chat": "old", "answer_id": "legacy", "vote": "good", "question": "Q" * 300_000}
    with log.path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(legacy) + "\n")
    before = counted(tmp_path)
    log.record(answers["number"], GOOD, chat="x", answer_id="trims", build_id="b")  # past max
    assert (before, counted(tmp_path)) == (202, 203)
    assert log.path.stat().st_size <= log.max_bytes
    assert [len(v["question"]) for v in log.votes() if v["answer_id"] == "legacy"] == [500]


def test_a_log_too_small_for_two_votes_keeps_the_newest(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 100)  # less than one line
    for number in range(3):
        log.record(answers["found"], GOOD, chat=1, answer_id=f"t{number}", build_id="b")
        assert [vote["answer_id"] for vote in log.votes()] == [f"t{number}"]


def test_revotes_replace_the_voters_line_and_push_out_nobody(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    """Issue 25: 80 accounts pressing 👍/👎 again and again pushed 100 earlier votes out."""
    probe = FeedbackLog(tmp_path / "probe" / FEEDBACK_FILE, 2**20)
    probe.record(answers["found"], GOOD, chat="voter-79", answer_id="revote-79", build_id="b")
    line = probe.path.stat().st_size + 8
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 250 * line)  # room for 187 lines; then trims
    for number in range(100):
        log.record(answers["found"], GOOD, chat=f"early-{number}", answer_id=f"early-{number}",
                   build_id="b")  # fmt: skip
    before = counted(tmp_path)
    for press in range(30):  # 2,400 presses: ten times what the log holds
        for voter in range(80):
            log.record(answers["found"], (GOOD, BAD)[press % 2], chat=f"voter-{voter}",
                       answer_id=f"revote-{voter}", build_id="b")  # fmt: skip
    assert (before, counted(tmp_path)) == (100, 180)
    votes = log.votes()
    assert [v["answer_id"] for v in votes[:100]] == [f"early-{n}" for n in range(100)]
    revotes = [vote for vote in latest_votes(votes) if vote["answer_id"].startswith("revote")]
    assert len(revotes) == 80 and {vote["vote"] for vote in revotes} == {BAD}  # the last press
    assert log.path.stat().st_size <= log.max_bytes


FILL_THE_DISK = """
import resource, signal, sys
from pathlib import Path
from bot.feedback import FeedbackLog, FeedbackLogError
from index.answering.results import Answer

log = FeedbackLog(Path(sys.argv[1]), 2**20)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails, as on a full disk
limit = log.path.stat().st_size + 100  # room for part of a vote, not all of it
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
answer = Answer("Who won?", True, "Bali won the vote.", None, (), "", None, 0.5, "person")
try:
    log.record(answer, "good", chat=1, answer_id="full", build_id="b")
except FeedbackLogError as error:
    print(error)
"""


def test_a_vote_on_a_full_disk_leaves_no_half_line(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    """Issue 25: a half-written vote swallowed the next one (glued onto it, never counted)."""
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    for number in range(5):
        log.record(answers["found"], GOOD, chat=number, answer_id=f"a{number}", build_id="b")
    whole = log.path.read_bytes()
    full = subprocess.run([sys.executable, "-c", FILL_THE_DISK, str(log.path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert full.returncode == 0, full.stderr
    assert full.stdout.startswith(f"cannot write the feedback log {log.path} (No space left")
    assert log.path.read_bytes() == whole  # none of the failed vote is left
    log.record(answers["number"], BAD, chat=9, answer_id="next", build_id="b")
    read = log.read()
    assert [v["answer_id"] for v in read.votes] == ["a0", "a1", "a2", "a3", "a4", "next"]
    assert read.skipped == 0 and counted(tmp_path) == 6


def test_a_torn_last_line_is_cut_and_a_whole_one_ended(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    for number in range(3):
        log.record(answers["found"], GOOD, chat=number, answer_id=f"a{number}", build_id="b")
    with log.path.open("ab") as out:  # what a crash mid-write (an older version) leaves
        out.write(b'{"chat": "x", "answer_id": "torn", "vote": "go')
    log.record(answers["found"], GOOD, chat=9, answer_id="after", build_id="b")
    read = log.read()
    assert [v["answer_id"] for v in read.votes] == ["a0", "a1", "a2", "after"]
    assert read.skipped == 0
    with log.path.open("ab") as out:  # a whole vote whose newline an editor dropped: kept
        out.write(b'{"chat": "y", "answer_id": "edited", "vote": "bad"}')
    log.record(answers["found"], GOOD, chat=9, answer_id="later", build_id="b")
    read = log.read()
    assert [v["answer_id"] for v in read.votes][-3:] == ["after", "edited", "later"]
    assert read.skipped == 0 and counted(tmp_path) == 6


KEEP_VOTING = """
import sys
from pathlib import Path
from bot.feedback import FeedbackLog
from index.answering.results import Answer

log = FeedbackLog(Path(sys.argv[1]), 6_000)  # a trim every few votes
answer = Answer("Who won?", True, "Bali won the vote.", None, (), "", None, 0.5, "person")
number = 0
while True:
    log.record(answer, "good", chat=number, answer_id=f"v{number}", build_id="b")
    number += 1
"""


def test_a_trim_killed_midway_leaves_no_temporary_file(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 6_000)
    # What kill -9 in the middle of a trim leaves: a half-written temporary file (an older
    # version named it by its process id).
    (tmp_path / ".feedback.jsonl.tmp").write_bytes(b'{"half')
    (tmp_path / ".feedback.jsonl.4242.tmp").write_bytes(b'{"half')
    for number in range(20):
        log.record(answers["found"], GOOD, chat=number, answer_id=f"a{number}", build_id="b")
    assert not list(tmp_path.glob(".feedback.jsonl*"))

    # And a real kill -9 of a process voting (and trimming) as fast as it can.
    voter = subprocess.Popen([sys.executable, "-c", KEEP_VOTING, str(log.path)])
    try:
        deadline = time.monotonic() + 60
        while b"v40" not in log.path.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        voter.send_signal(signal.SIGKILL)
        voter.wait()
    before = len(log.votes())
    FeedbackLog(log.path, 2**20).record(answers["found"], BAD, chat=1, answer_id="after",
                                        build_id="b")  # fmt: skip
    read = log.read()
    assert (before, len(read.votes), read.skipped) == (before, before + 1, 0)
    log.record(answers["found"], BAD, chat=2, answer_id="trims", build_id="b")  # past 6,000
    assert not list(tmp_path.glob(".feedback.jsonl*")) and log.read().skipped == 0


def test_a_question_holding_a_line_separator_is_one_vote(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    log = FeedbackLog(tmp_path / FEEDBACK_FILE, 2**20)
    odd = replace(answers["found"], question="Who said\u2028it\x85 and\u2029why?")
    log.record(odd, GOOD, chat=1, answer_id="odd", build_id="b")
    log.record(answers["found"], GOOD, chat=1, answer_id="plain", build_id="b")
    assert [vote["question"] for vote in log.votes()] == [odd.question, QUESTION]
    assert counted(tmp_path) == 2


def test_feedback_report_skips_bad_lines_and_says_how_many(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    """Issue 25: a deeply nested line, or a source that is a string, stopped the report."""
    index = tmp_path / "index"
    log = FeedbackLog(index / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], BAD, chat=1, answer_id="a", build_id="b")
    log.record(answers["number"], GOOD, chat=1, answer_id="b", build_id="b")
    bad_lines = [
        "[" * 100_000 + "]" * 100_000,  # past the JSON parser's depth: RecursionError
        '{"vote": "bad", "source": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps({"vote": "bad", "question": "Who?", "source": "raqqa.txt"}),
        json.dumps({"vote": "good", "question_type": ["person"]}),
        "not json",
        "7",
    ]
    with log.path.open("a", encoding="utf-8") as out:
        out.write("\n".join(bad_lines) + "\n")
    log.record(answers["declined"], BAD, chat=2, answer_id="c", build_id="b")

    report = newsdesk("feedback", cwd=tmp_path, INDEX_DIR=str(index))
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("3 answers voted on: 1 👍, 2 👎")
    assert report.stderr == (
        f"newsdesk: {log.path}: 6 lines skipped: not a whole vote (damaged or edited by hand)\n"
    )
    exported = newsdesk("feedback", "--export", "bad.jsonl", cwd=tmp_path, INDEX_DIR=str(index))
    assert exported.returncode == 0 and "Traceback" not in exported.stderr, exported.stderr
    assert "2 👎 question(s) written to bad.jsonl" in exported.stdout
    assert len((tmp_path / "bad.jsonl").read_text(encoding="utf-8").splitlines()) == 2

    log.path.write_text("\n".join(bad_lines) + "\n", encoding="utf-8")
    nothing = newsdesk("feedback", cwd=tmp_path, INDEX_DIR=str(index))
    assert nothing.returncode == 1 and nothing.stdout == ""
    assert nothing.stderr == (
        f"newsdesk: no feedback yet: {log.path} holds no vote; 6 lines skipped: not a whole vote\n"
    )


def test_feedback_report_on_a_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "index" / FEEDBACK_FILE
    folder.mkdir(parents=True)
    report = newsdesk("feedback", cwd=tmp_path, INDEX_DIR=str(folder.parent))
    assert report.returncode == 1 and report.stdout == ""
    assert report.stderr == (
        f"newsdesk: cannot read the feedback log: {folder} is a folder, not a file; move it aside\n"
    )


def test_console_vote_that_cannot_be_written_says_so_and_goes_on(
    seed_engine: Engine, tmp_path: Path
) -> None:
    """Issue 25: a read-only or broken INDEX_DIR stopped the console with a traceback."""
    index = tmp_path / "index"
    shutil.copytree(seed_engine.setup.index_dir, index, symlinks=True)
    (index / FEEDBACK_FILE).mkdir()
    session = f"{QUESTION}\n:good\nHow many civilians left?\n:quit\n"
    ran = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path),
             "INDEX_DIR": str(index), "SEEDS_DIR": str(seed_engine.setup.seeds_dir)},
        input=session, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    said = ran.stdout.splitlines()
    failed = said.index(
        f"Could not record your vote: cannot write the feedback log: {index / FEEDBACK_FILE} "
        "is a folder, not a file; move it aside"
    )
    assert any("left" in line or "civilians" in line for line in said[failed + 1 :])

    # INDEX_DIR a file, or a read-only folder (not for root, who writes anyway).
    (tmp_path / "a-file").write_text("")
    logs = [FeedbackLog(tmp_path / "a-file" / FEEDBACK_FILE, 2**20)]
    if os.geteuid() != 0:
        (tmp_path / "read-only").mkdir(mode=0o555)
        logs.append(FeedbackLog(tmp_path / "read-only" / FEEDBACK_FILE, 2**20))
    for log in logs:
        said = []
        console = Console(seed_engine, said.append, colour=False, feedback=log)
        console.handle(QUESTION)
        console.handle(":bad")
        assert said[-1].startswith(
            f"Could not record your vote: cannot write the feedback log {log.path}"
        )
        console.handle(":good")  # still there, still answering
        console.handle("How many civilians left?")
        assert len(said) == 4 and not log.exists()


def test_telegram_vote_that_cannot_be_written_says_so(
    api: FakeBotApi, seed_engine: Engine, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    (index / FEEDBACK_FILE).mkdir(parents=True)
    settings = bot_settings_for(api, seed_engine, index_dir=index)
    with serving(build_application(settings, seed_engine)):
        api.push_message(QUESTION, chat_id=ALICE)
        api.wait_for_messages(ALICE, 1)
        [keyboard] = [api.markup_of(call) for call in api.calls_to("sendMessage", ALICE)]
        assert keyboard is not None
        buttons = {
            b["text"]: b["callback_data"] for row in keyboard["inline_keyboard"] for b in row
        }
        api.push_callback(buttons["👍"], message_id=api.last_message_id(ALICE), chat_id=ALICE,
                          user_id=ALICE)  # fmt: skip
        api.wait_for(lambda: len(api.calls_to("answerCallbackQuery")) >= 1, settle=0.3)
    toasts = [call.params.get("text") for call in api.calls_to("answerCallbackQuery")]
    assert toasts == [VOTE_NOT_RECORDED]
    assert len(api.sent_texts(ALICE)) == 1  # the answer only: no apology message


def test_the_chat_pseudonym_is_keyed_by_a_secret_beside_the_log(
    tmp_path: Path, answers: dict[str, Answer]
) -> None:
    """Issue 25: an unkeyed SHA-256 of a chat id gives the id back by trying every id."""
    index = tmp_path / "index"
    log = FeedbackLog(index / FEEDBACK_FILE, 2**20)
    log.record(answers["found"], GOOD, chat=424242, answer_id="k1", build_id="b")
    key = index / KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    [vote] = log.votes()
    unkeyed = {hashlib.sha256(f"newsdesk-chat:{n}".encode()).hexdigest()[:16]: n
               for n in range(420_000, 430_000)}  # fmt: skip
    assert vote["chat"] not in unkeyed  # trying ids without the key finds nothing
    restarted = FeedbackLog(index / FEEDBACK_FILE, 2**20)
    assert restarted.chat_hash(424242) == vote["chat"]  # stable across restarts
    assert FeedbackLog(tmp_path / "other" / FEEDBACK_FILE, 2**20).chat_hash(424242) != vote["chat"]

    old = {"chat": hashlib.sha256(b"newsdesk-chat:7").hexdigest()[:16], "answer_id": "old",
           "vote": "bad", "question": "Who?", "question_type": "person"}  # fmt: skip
    with log.path.open("a", encoding="utf-8") as out:  # a line written before the key
        out.write(json.dumps(old) + "\n")
    restarted.record(answers["number"], GOOD, chat=424242, answer_id="k2", build_id="b")
    assert [vote["answer_id"] for vote in restarted.votes()] == ["k1", "old", "k2"]
    assert counted(index) == 3
