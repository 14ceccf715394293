"""``newsdesk ask`` and ``newsdesk console`` driven as a person would: real subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import SEED_ARTICLE

QUESTION = "Who said the final battle could take hours or days?"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with seeds and no index yet: the first command must build it."""
    root = tmp_path_factory.mktemp("cli")
    (root / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, root / "seeds" / SEED_ARTICLE.name)
    return root


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SEEDS_DIR", "INDEX_DIR"}}
    return {**env, "HOME": str(workdir), "HF_HUB_OFFLINE": "1"}


def newsdesk(
    workdir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=workdir,
        env={**_env(workdir), **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_builds_the_index_first_then_answers(workdir: Path) -> None:
    result = newsdesk(workdir, "ask", QUESTION)
    assert result.returncode == 0, result.stderr
    assert "building it from seeds first" in result.stderr
    first, source = result.stdout.strip().splitlines()
    assert first.startswith("**Mustafa Bali**, the spokesman")
    assert source == (
        "— All Syrian IS fighters leave Raqa: monitor, 2017-10-15, events of 2017-10-14, "
        "paragraph 2 (raqqa-2017-10-15.txt)"
    )
    again = newsdesk(workdir, "ask", "What is the capital of Australia?")
    assert again.returncode == 0 and "building" not in again.stderr
    assert again.stdout.startswith("I couldn't find that in the articles.")


def test_ask_json_schema(workdir: Path) -> None:
    result = newsdesk(workdir, "ask", "--json", "How many civilians left?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {
        "question",
        "found",
        "sentence",
        "short_answer",
        "marks",
        "context",
        "source",
        "confidence",
        "question_type",
        "more",
        "also_in",
        "dates",
        "refusal",
    }
    assert answer["found"] is True and answer["short_answer"] == "Around 1,500"
    assert answer["question_type"] == "number" and 0 <= answer["confidence"] <= 1
    assert answer["refusal"] is None
    source_keys = {"title", "date", "paragraph", "path", "url", "key", "event_date"}
    assert set(answer["source"]) == source_keys
    assert answer["source"]["paragraph"] == 5
    mark = answer["marks"][0]
    assert answer["sentence"][mark["start"] : mark["end"]] == "Around 1,500"
    keys = {"sentence", "context", "source", "score", "also_in"}
    assert all(set(hit) == keys for hit in answer["more"])
    assert answer["also_in"] == []  # one article: nothing else tells it


def test_a_question_in_spanish_gets_one_clear_line(workdir: Path) -> None:
    spanish = "¿Cuántos civiles salieron de Raqqa?"
    result = newsdesk(workdir, "ask", spanish)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "I can read questions in English; these articles are in English.\n"
    as_json = json.loads(newsdesk(workdir, "ask", "--json", spanish).stdout)
    assert as_json["refusal"] == "not_english" and as_json["found"] is False
    assert as_json["question"] == spanish and as_json["source"] is None


def test_ask_file_answers_one_json_line_per_question(workdir: Path) -> None:
    questions = workdir / "questions.txt"
    questions.write_text(f"{QUESTION}\n\nHow many civilians left?\nWho won the 2018 World Cup?\n")
    result = newsdesk(workdir, "ask", "--file", str(questions))
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["found"] for a in answers] == [True, True, False]
    assert answers[0]["short_answer"] == "Mustafa Bali"
    piped = newsdesk(workdir, "ask", "--file", "-", stdin="How many civilians left?\n")
    assert json.loads(piped.stdout)["short_answer"] == "Around 1,500"


def test_ask_usage_errors(workdir: Path) -> None:
    neither = newsdesk(workdir, "ask")
    assert neither.returncode == 2 and "give either a QUESTION or --file FILE" in neither.stderr
    empty = newsdesk(workdir, "ask", "   ")
    assert empty.returncode == 2 and "the question is empty" in empty.stderr
    assert "Traceback" not in neither.stderr + empty.stderr


def spawn_console(workdir: Path) -> pexpect.spawn:
    """``newsdesk console`` on a real pseudo-terminal, as a person runs it."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console"],
        cwd=str(workdir),
        env=_env(workdir),
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 200),
    )


def test_console_session(workdir: Path) -> None:
    newsdesk(workdir, "index", "build")
    child = spawn_console(workdir)
    try:
        child.expect("Loading the index")  # no silent wait at a terminal
        child.expect("Ask a question")
        child.expect_exact("newsdesk> ")
        child.sendline(QUESTION)
        child.expect("Mustafa Bali")
        child.expect("paragraph 2")
        child.expect_exact("newsdesk> ")
        child.sendline(":more")
        child.expect(r"1\.(\x1b\[0m)? ")
        child.expect_exact("newsdesk> ")
        child.sendline(":more")  # the next ones, not the same three again
        child.expect(r"4\.(\x1b\[0m)? ")
        child.expect_exact("newsdesk> ")
        child.sendline(":context")
        child.expect("Mustafa Bali, the spokesman")
        child.expect_exact("newsdesk> ")
        child.sendline(":good")
        child.expect_exact("Thanks: noted 👍")
        child.expect_exact("newsdesk> ")
        child.sendline("Was hat Mustafa Bali gesagt?")
        child.expect_exact("I can read questions in English; these articles are in English.")
        child.expect_exact("newsdesk> ")
        child.sendline(":sources")
        child.expect(r"1 article\(s\) indexed")
        child.expect_exact("newsdesk> ")
        child.sendline(":bogus")
        child.expect("Unknown command")
        child.expect_exact("newsdesk> ")
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert QUESTION in (workdir / ".newsdesk_history").read_text()
    [vote] = (workdir / "var" / "index" / "feedback.jsonl").read_text().splitlines()
    assert json.loads(vote)["vote"] == "good" and json.loads(vote)["question"] == QUESTION


def test_console_ends_on_ctrl_d(workdir: Path) -> None:
    child = spawn_console(workdir)
    try:
        child.expect_exact("newsdesk> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_console_follow_up_and_new(workdir: Path) -> None:
    newsdesk(workdir, "index", "build")
    child = spawn_console(workdir)
    try:
        child.expect_exact("newsdesk> ")
        child.sendline("How many Daesh fighters had the elders persuaded to surrender?")
        child.expect("paragraph 7")
        child.expect_exact("newsdesk> ")
        child.sendline("Who said that?")
        child.expect_exact("(read as: Who said that the elders had already persuaded 100")
        child.expect("Omar Alloush")
        child.expect_exact("newsdesk> ")
        child.sendline(":new")
        child.expect_exact("Starting afresh")
        child.expect_exact("newsdesk> ")
        child.sendline("Who said that?")
        child.expect("paragraph")
        asked_alone = child.before
        child.expect_exact("newsdesk> ")
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert "read as" not in asked_alone


def test_console_takes_help_and_quit_without_the_colon(workdir: Path) -> None:
    newsdesk(workdir, "index", "build")
    child = spawn_console(workdir)
    try:
        child.expect_exact("newsdesk> ")
        child.sendline("help")
        child.expect_exact(":quotes NAME")
        child.expect_exact("newsdesk> ")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_version_and_folder_options(workdir: Path, tmp_path: Path) -> None:
    version = newsdesk(workdir, "--version")
    assert version.returncode == 0
    assert re.fullmatch(r"newsdesk \d+\.\d+\.\d+\n", version.stdout)
    elsewhere = tmp_path / "elsewhere"
    info = newsdesk(workdir, "--index", str(elsewhere), "index", "info")
    assert info.returncode == 1
    assert f"no index in {elsewhere} yet" in info.stderr
    (tmp_path / "empty").mkdir()
    built = newsdesk(
        workdir, "--seeds", str(tmp_path / "empty"), "--index", str(elsewhere), "index", "build"
    )
    assert built.returncode == 1
    assert f"no article found in {tmp_path / 'empty'}" in built.stderr
    helped = newsdesk(workdir, "telegram", "--help")
    assert "TELEGRAM_BOT_TOKEN" in helped.stdout
    console_help = newsdesk(workdir, "console", "--help")
    assert ":quotes NAME" in console_help.stdout and ":help" in console_help.stdout


def test_follow_up_minutes_zero_turns_follow_ups_off(workdir: Path) -> None:
    newsdesk(workdir, "index", "build")
    asked = "How many Daesh fighters had the elders persuaded to surrender?\nWho said that?\n"
    for minutes, rewritten in (("0", False), ("15", True)):
        ran = newsdesk(workdir, "console", stdin=asked, FOLLOW_UP_MINUTES=minutes)
        assert ran.returncode == 0, ran.stderr
        assert ("(read as:" in ran.stdout) is rewritten, ran.stdout
