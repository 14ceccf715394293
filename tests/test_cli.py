"""The command line driven for real, in subprocesses, as a person would run it."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
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


def test_bad_question_input_gets_one_line_and_the_good_lines_are_answered(
    seeds: Path, tmp_path: Path
) -> None:
    empty = newsdesk("ask", "   ", cwd=tmp_path)
    assert empty.returncode == 2 and "the question is empty" in empty.stderr
    assert not (tmp_path / "var").exists()  # refused before anything was loaded or built

    lines = b"How many civilians left?\n\xff\xfe not UTF-8\nWho is Ryan Dillon?\n"
    mixed = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--file", "-"],
        cwd=tmp_path,
        input=lines,
        capture_output=True,
        timeout=300,
    )
    answers = mixed.stdout.decode().splitlines()
    assert len(answers) == 2 and "1,500" in answers[0]
    assert mixed.returncode == 1
    error = mixed.stderr.decode().strip().splitlines()[-1]
    assert error.startswith("newsdesk: 1 question line(s) were not UTF-8") and "(line 2)" in error
    assert b"Traceback" not in mixed.stderr

    undecodable = subprocess.run(
        [sys.executable, "-m", "bot", "ask", b"How many civilians \xff\xed\xa0\x80 left?"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    assert undecodable.returncode == 0, undecodable.stderr
    assert b"1,500" in undecodable.stdout and b"Traceback" not in undecodable.stderr


def test_a_build_that_cannot_write_says_so_and_keeps_the_live_index(
    seeds: Path, tmp_path: Path
) -> None:
    """A real write failure: the process may not write files over 20 kB (as on a full disk)."""
    assert newsdesk("index", "build", cwd=tmp_path).returncode == 0
    live = (tmp_path / "var" / "index" / "current").resolve()

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    full = subprocess.run(
        [sys.executable, "-m", "bot", "index", "build", "--full"],
        cwd=tmp_path,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_files,
    )
    assert full.returncode == 1
    assert full.stderr.strip().startswith("newsdesk: cannot write the new index in var/index")
    assert full.stderr.strip().endswith("the live index is unchanged")
    assert len(full.stderr.strip().splitlines()) == 1
    assert (tmp_path / "var" / "index" / "current").resolve() == live
    assert [p.name for p in (tmp_path / "var" / "index" / "builds").iterdir()] == [live.name]
    asked = newsdesk("ask", "How many civilians left?", cwd=tmp_path)
    assert asked.returncode == 0 and "1,500" in asked.stdout


def test_telegram_without_a_network_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: no Bot API there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = newsdesk(
        "telegram",
        cwd=tmp_path,
        TELEGRAM_BOT_TOKEN="123456:TESTTOKEN-abcdefghijklmnopqrstuvwxyz012",
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    # A warning for each of the three retries of the connection, then one line, no traceback.
    wanted = f"newsdesk: cannot reach the Bot API at http://127.0.0.1:{port}/bot: NetworkError"
    assert lines[-1] == wanted
    assert len(lines) <= 4 and "Traceback" not in result.stderr


def test_feedback_summary_and_export(tmp_path: Path) -> None:
    nothing = newsdesk("feedback", cwd=tmp_path)
    assert nothing.returncode == 1 and nothing.stdout == ""
    assert nothing.stderr.startswith("newsdesk: no feedback yet: var/index/feedback.jsonl")
    index = tmp_path / "var" / "index"
    index.mkdir(parents=True)
    votes = [
        {"chat": "c1", "answer_id": "a", "vote": "good", "question": "Who won?",
         "question_type": "person", "sentence": "Bali won.", "source": None},
        {"chat": "c1", "answer_id": "b", "vote": "bad", "question": "How many left?",
         "question_type": "number", "sentence": "Some left.",
         "source": {"title": "T", "date": None, "paragraph": 1, "article": "x.txt"}},
        {"chat": "c2", "answer_id": "c", "vote": "bad", "question": "Who won?",
         "question_type": "person", "sentence": "Bali won.", "source": None},
    ]  # fmt: skip
    (index / "feedback.jsonl").write_text("".join(json.dumps(v) + "\n" for v in votes))
    summary = newsdesk("feedback", cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith("3 answers voted on: 1 👍, 2 👎")
    assert re.search(r"number\s+0\s+1\s+100%", summary.stdout)
    assert re.search(r"person\s+1\s+1\s+50%", summary.stdout)

    exported = newsdesk("feedback", "--export", "bad.jsonl", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "2 👎 question(s) written to bad.jsonl" in exported.stdout
    rows = [json.loads(line) for line in (tmp_path / "bad.jsonl").read_text().splitlines()]
    assert [(row["question"], row["kind"]) for row in rows] == [
        ("How many left?", "how_many"),
        ("Who won?", "who"),
    ]
    assert all(row["answer"] == [] and row["sentence"] == "" for row in rows)
    unwritable = newsdesk("feedback", "--export", "no/such/dir/bad.jsonl", cwd=tmp_path)
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr
    assert unwritable.stderr.startswith("newsdesk: cannot write no/such/dir/bad.jsonl")


def test_ask_since_and_until_keep_the_answer_to_those_days(seeds: Path, tmp_path: Path) -> None:
    question = "How many fighters did US officials believe ISIS had housed?"
    inside = newsdesk(
        "ask", "--since", "2017-10-15", "--until", "15 October 2017", question, cwd=tmp_path
    )
    assert inside.returncode == 0, inside.stderr
    assert "10,000" in inside.stdout
    assert "All Syrian IS fighters leave Raqa: monitor, 2017-10-15, paragraph" in inside.stdout

    later = newsdesk("ask", "--since", "2017-10-16", "--json", question, cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    answer = json.loads(later.stdout)
    assert answer["source"] is None and answer["dates"] == "2017-10-16 onwards"

    saturday = newsdesk(
        "ask",
        "--json",
        "When did Mustafa Bali say the final battle could take hours?",
        cwd=tmp_path,
    )
    assert json.loads(saturday.stdout)["source"]["event_date"] == "2017-10-14"


def test_a_bad_since_date_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = newsdesk("ask", "--since", "2017-02-30", "Who is Mustafa Bali?", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "newsdesk: --since: '2017-02-30' is not a date; write it as YYYY-MM-DD, e.g. 1987-03-01"
    )
    assert not (tmp_path / "var").exists()  # refused before anything loaded or was built


def test_quotes_by_name_as_text_and_json(seeds: Path, tmp_path: Path) -> None:
    text = newsdesk("quotes", "Bali", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("2 statement(s) by Bali, newest first:")
    assert (
        "1. “this final battle could take hours or days” (Mustafa Bali, the spokesman"
        in text.stdout
    )
    assert "— All Syrian IS fighters leave Raqa: monitor, 2017-10-15, paragraph 2" in text.stdout

    as_json = newsdesk("quotes", "Mustafa Bali", "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    quotes = json.loads(as_json.stdout)
    assert [quote["verb"] for quote in quotes] == ["said", "added"]
    assert quotes[1]["resolved"] is True and quotes[1]["source"]["paragraph"] == 5

    nobody = newsdesk("quotes", "Nobody Atall", cwd=tmp_path)
    assert nobody.returncode == 1
    assert nobody.stderr == "newsdesk: no statements by Nobody Atall in these articles\n"
    assert nobody.stdout == ""


_NO_MODEL_PROBE = """
import sys
from bot.cli import cli
try:
    cli(sys.argv[1:], prog_name="newsdesk")
except SystemExit as stop:
    heavy = sorted(m for m in ("torch", "sentence_transformers", "spacy") if m in sys.modules)
    print("exit", stop.code, "heavy", heavy)
"""


def test_folder_errors_come_before_any_model_loads(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "papers").mkdir()
    for name in ("report.pdf", "notes.docx", "scan.png", "slides.pptx"):
        (tmp_path / "papers" / name).write_bytes(b"%PDF-1.4")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("Title\n\nText.\n")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("not an index\n")
    cases = {
        ("--seeds", "missing", "index", "build"): "seeds folder missing does not exist",
        ("--seeds", "empty", "index", "build"): "no article found in empty",
        ("--seeds", "papers", "ask", "Who?"): "(found only files of other kinds: notes.docx, "
        "report.pdf, scan.png and 1 more)",
        ("--index", "seeds/index", "index", "build"): "overlap",
        ("--index", "busy", "ask", "Who?"): "holds files Newsdesk did not make",
    }
    for args, expected in cases.items():
        ran = subprocess.run(
            [sys.executable, "-c", _NO_MODEL_PROBE, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert expected in ran.stderr, (args, ran.stderr)
        assert "\n" not in ran.stderr.strip()
        assert ran.stdout.strip() == "exit 1 heavy []", (args, ran.stdout)
