"""Whatever a person types as the name in ``quotes``, ``:quotes`` or ``/quotes``: one line or a
list, never a traceback (issue 25): bytes that are not UTF-8, a 100,000-character name, and
``%`` or ``_``, which are letters in a name, not wildcards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.telegram.app import build_application
from bot.text_render import quote_lines
from index.answering.quotes import speaker_name
from index.storage.metadata import MAX_NAME_CHARS
from tests.conftest import SEED_ARTICLE, bot_settings_for
from workshop.fake_telegram.running import serving
from workshop.fake_telegram.server import FakeBotApi

# A speaker of three words: "% %" as a LIKE pattern would match "... anna maria lopez".
HARBOUR = (
    "Harbour reopens\n\nPosted 1 March 2004\n\n"
    "Harbour master Anna Maria Lopez said the new quay would open on Monday.\n"
)
HUGE = "Ann " + "a" * 100_000
NOT_UTF8 = "Bal\udcffi"  # what Python makes of the argument bytes b"Bal\xffi"
LONE_SURROGATE = "Bali\udced\udcb2\udc80"  # b"\xed\xb2\x80": a UTF-16 surrogate written as UTF-8
WILDCARDS = ("% %", "%a %", "_aria _opez", "% lopez")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the Raqqa seed and the harbour article, its index built by the CLI."""
    folder = tmp_path_factory.mktemp("quotes-input")
    (folder / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, folder / "seeds" / SEED_ARTICLE.name)
    (folder / "seeds" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    built = newsdesk(folder, "index", "build")
    assert built.returncode == 0, built.stderr
    return folder


def newsdesk(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI; str arguments holding surrogates reach it as the bytes they stand for."""
    ran = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        input=stdin,
        capture_output=True,
        timeout=300,
    )
    return subprocess.CompletedProcess(
        ran.args, ran.returncode, ran.stdout.decode("utf-8"), ran.stderr.decode("utf-8")
    )


def test_the_three_word_speaker_is_found(workdir: Path) -> None:
    found = newsdesk(workdir, "quotes", "Maria Lopez")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("1 statement(s) by Maria Lopez, newest first:")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (NOT_UTF8, "2 statement(s) by Bali, newest first:"),
        (LONE_SURROGATE, "2 statement(s) by Bali, newest first:"),
        (f"Mustafa {NOT_UTF8}", "2 statement(s) by Mustafa Bali, newest first:"),
    ],
)
def test_undecodable_bytes_are_left_out_of_the_name(workdir: Path, name: str, said: str) -> None:
    ran = newsdesk(workdir, "quotes", name)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(said) and ran.stderr == ""


def test_a_name_of_undecodable_bytes_only_is_empty(workdir: Path) -> None:
    ran = newsdesk(workdir, "quotes", "\udcff\udcfe")
    assert ran.returncode == 2
    assert ran.stderr.strip().endswith("Error: the name is empty")
    assert "Traceback" not in ran.stderr


def test_a_huge_name_is_one_short_line(workdir: Path) -> None:
    ran = newsdesk(workdir, "quotes", HUGE)
    assert ran.returncode == 1 and ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("newsdesk: no statements by Ann aaa") and "…" in line
    assert len(line) < 2 * MAX_NAME_CHARS


@pytest.mark.parametrize("name", WILDCARDS)
def test_percent_and_underscore_are_no_wildcards(workdir: Path, name: str) -> None:
    ran = newsdesk(workdir, "quotes", name, "--json")
    assert ran.returncode == 1, ran.stdout
    assert ran.stdout.strip() == "[]"
    assert ran.stderr == f"newsdesk: no statements by {name} in these articles\n"


def test_console_quotes_take_any_input(workdir: Path) -> None:
    lines = [
        b":quotes Bal\xffi",
        b":quotes Bali\xed\xb2\x80",
        HUGE.replace("Ann", ":quotes Ann").encode(),
        *(f":quotes {name}".encode() for name in WILDCARDS),
        b":quotes \x1b[2JLopez",
        b":quotes Maria Lopez",
    ]
    ran = newsdesk(workdir, "console", stdin=b"\n".join(lines) + b"\n")
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    out = ran.stdout.splitlines()
    assert [line for line in out if line.startswith(("No ", "1 ", "2 "))] == [
        "2 statement(s) by Bali, newest first:",
        "2 statement(s) by Bali, newest first:",
        f"No statements by Ann {'a' * (MAX_NAME_CHARS - 5)}… in these articles.",
        *(f"No statements by {name} in these articles." for name in WILDCARDS),
        "No statements by [2JLopez in these articles.",
        "1 statement(s) by Maria Lopez, newest first:",
    ]
    assert "\x1b" not in ran.stdout


def test_speaker_name_is_fit_to_print() -> None:
    assert speaker_name("  Mustafa\t\udcff Bali\x07 ") == "Mustafa Bali"
    assert speaker_name("\udcff") == ""
    assert len(speaker_name(HUGE)) == MAX_NAME_CHARS
    assert quote_lines(HUGE, []) == [f"No statements by {speaker_name(HUGE)} in these articles."]


def test_telegram_quotes_take_any_input(api: FakeBotApi, seed_engine: Engine) -> None:
    # Telegram sends UTF-8 text only (no undecodable bytes), and its handler refuses a name over
    # its question limit with the usage line: one of 500 characters is under it, and over ours.
    names = ["Bali", "% %", "Ann " + "a" * 500, "_ali"]
    with serving(build_application(bot_settings_for(api, seed_engine), seed_engine)):
        for count, name in enumerate(names, start=1):
            api.push_message(f"/quotes {name}", chat_id=1002)
            api.wait_for_messages(1002, count)
        replies = api.wait_for_messages(1002, len(names), settle=0.5)
    assert replies[0].startswith("2 statement(s) by Bali, newest first:")
    assert replies[1:] == [
        "No statements by % % in these articles.",
        f"No statements by Ann {'a' * (MAX_NAME_CHARS - 5)}… in these articles.",
        "No statements by _ali in these articles.",
    ]
