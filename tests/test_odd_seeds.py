"""Seeds folders as people really keep them: huge files, thousands of tiny ones, FIFOs,
links to nowhere, files deleted while the build reads. The build indexes what it can, says what
it skipped and why, and its memory does not grow with a file it will not index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index.analysis.embedder import Embedder
from index.corpus.articles import read_articles
from index.errors import NoArticlesError
from index.indexing.builder import BuildOptions, build_index

MB = 2**20
PARAGRAPH = (
    "The harbour authority said on Tuesday that the new ferry terminal would open in May, "
    "after two years of building work and a long dispute over the contract.\n\n"
)


def write_big_text(path: Path, size: int) -> None:
    """A real, readable article of about ``size`` bytes (title, byline, many paragraphs)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Harbour log\n\nPosted May 2, 2024\n\n")
        block = PARAGRAPH * 1024
        for _ in range(size // len(block) + 1):
            handle.write(block)
        handle.truncate(size)


def peak_rss_mb_of(command: list[str], cwd: Path) -> tuple[int, str, str, float]:
    """Run ``command``; return its exit code, stdout, stderr and its own peak resident MB."""
    with (cwd / "out.txt").open("w") as out, (cwd / "err.txt").open("w") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return (
        process.returncode,
        (cwd / "out.txt").read_text(),
        (cwd / "err.txt").read_text(),
        usage.ru_maxrss / 1024,
    )


def newsdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, as a person runs it in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_a_100_mb_article_is_skipped_unread_and_the_rest_indexed(
    seeds: Path, tmp_path: Path
) -> None:
    write_big_text(seeds / "harbour-log.txt", 100 * MB)
    with (seeds / "archive.jsonl").open("w", encoding="utf-8") as archive:
        archive.write(json.dumps({"title": "Ferry fares", "text": "Fares rise by 5%."}) + "\n")
        archive.write(json.dumps({"title": "Huge", "text": "x " * (6 * MB)}) + "\n")
        archive.write(json.dumps({"title": "Bridge", "text": "The bridge reopens."}) + "\n")
    command = [sys.executable, "-m", "bot", "index", "build"]
    code, out, err, big_peak = peak_rss_mb_of(command, tmp_path)
    assert code == 0, err
    assert "3 added" in out  # the seed article and two of the three archive lines
    assert (
        "skipped harbour-log.txt: too large for one article (100.0 MB; "
        "the limit is 10.0 MB, MAX_ARTICLE_MB)"
    ) in err
    assert "skipped archive.jsonl: 1 line skipped (line 2: too long for one article" in err
    (seeds / "harbour-log.txt").unlink()
    (seeds / "archive.jsonl").unlink()
    code, _, err, small_peak = peak_rss_mb_of([*command, "--full"], tmp_path)
    assert code == 0, err
    # Reading the 100 MB file would add hundreds of MB (bytes, text, paragraphs).
    assert big_peak < small_peak + 60, (big_peak, small_peak)


def test_long_json_lines_are_skipped_on_their_own(seeds: Path) -> None:
    with (seeds / "archive.jsonl").open("w", encoding="utf-8") as archive:
        archive.write(json.dumps({"title": "Ferry fares", "text": "Fares rise by 5%."}) + "\n")
        archive.write(json.dumps({"title": "Huge", "text": "x " * MB}) + "\n")
        archive.write("not json\n")
        archive.write(json.dumps({"title": "Bridge", "text": "The bridge reopens."}))
    result = read_articles(seeds, max_article_bytes=MB)
    titles = sorted(article.title for article in result.articles)
    assert titles == ["All Syrian IS fighters leave Raqa: monitor", "Bridge", "Ferry fares"]
    [skipped] = [str(skip) for skip in result.skipped]  # one report for the file
    assert skipped.startswith(
        "skipped archive.jsonl: 2 lines skipped (line 2: too long for one article "
        "(the limit is 1.0 MB, MAX_ARTICLE_MB); line 3: Expecting value"
    )


def test_json_lines_at_the_limit_with_either_line_ending(tmp_path: Path) -> None:
    record = json.dumps({"title": "Fares", "text": "Fares rise."}).encode()
    (tmp_path / "crlf.jsonl").write_bytes(record + b"\r\n" + record)
    (tmp_path / "lf.jsonl").write_bytes(record + b"\n" + record + b"\n")
    result = read_articles(tmp_path, max_article_bytes=len(record))
    assert len(result.articles) == 4 and result.skipped == []
    with pytest.raises(NoArticlesError, match=r"\(2 file\(s\) skipped\)"):
        read_articles(tmp_path, max_article_bytes=len(record) - 1)


def test_thousands_of_tiny_files_in_nested_folders(tmp_path: Path, embedder: Embedder) -> None:
    # 4,000 files in 1,000 folders (10,000 took 45-80 s of CI, nearly all of it embedding).
    seeds = tmp_path / "seeds"
    for number in range(4_000):
        folder = seeds / f"{number % 100:02d}" / f"{number // 100 % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"brief-{number}.txt").write_text(
            f"Brief {number}\n\nCouncil item {number} was approved.\n", encoding="utf-8"
        )
    (seeds / "00" / "loop").symlink_to(seeds, target_is_directory=True)
    report = build_index(seeds, tmp_path / "index", embedder, BuildOptions())
    assert len(report.added) == 4_000 and report.skipped == []
    assert report.sentences == 4_000


def test_fifos_and_links_to_nowhere_are_skipped(seeds: Path) -> None:
    os.mkfifo(seeds / "pipe.txt")  # reading it would wait for a writer forever
    (seeds / "gone.txt").symlink_to(seeds / "deleted-before-reading.txt")
    reasons = {skip.path: skip.reason for skip in read_articles(seeds).skipped}
    assert reasons["pipe.txt"] == "not a regular file"
    assert reasons["gone.txt"] == "cannot be read (No such file or directory)"


def test_files_deleted_during_the_read_are_skipped_or_read_whole(seeds: Path) -> None:
    """A deleted file is read whole, skipped as unreadable, or never seen: never a crash."""
    names = [f"note-{number:04d}.txt" for number in range(2000)]
    for name in names:
        (seeds / name).write_text(f"Note {name}\n\nThe note says {name}.\n", encoding="utf-8")

    def delete_every_other() -> None:
        for name in names[::2]:
            (seeds / name).unlink()

    deleter = threading.Thread(target=delete_every_other)
    deleter.start()
    result = read_articles(seeds)
    deleter.join()
    read = {article.id for article in result.articles}
    skipped = {skip.path: skip.reason for skip in result.skipped}
    assert set(names[1::2]) <= read
    assert not read & set(skipped)
    for name in set(skipped):
        assert skipped[name] == "cannot be read (No such file or directory)"
    for name in names[::2]:
        if name in read:
            assert next(a for a in result.articles if a.id == name).title == f"Note {name}"


def test_a_json_line_nested_past_the_parsers_depth_is_skipped(seeds: Path) -> None:
    with (seeds / "archive.jsonl").open("w", encoding="utf-8") as archive:
        archive.write("[" * 50_000 + "]" * 50_000 + "\n")
        archive.write(json.dumps({"title": "Bridge", "text": "The bridge reopens."}) + "\n")
    result = read_articles(seeds)
    titles = sorted(article.title for article in result.articles)
    assert titles == ["All Syrian IS fighters leave Raqa: monitor", "Bridge"]
    [skipped] = [str(skip) for skip in result.skipped]
    assert skipped == "skipped archive.jsonl: 1 line skipped (line 1: nested too deeply)"


def test_a_file_whose_parser_fails_in_any_way_is_skipped(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.corpus.articles as articles

    real = articles.read_file

    def failing(path: Path, relative: str, limit: int = MB) -> object:
        if relative == "odd.html":
            raise LookupError("a parser's own failure")
        return real(path, relative, limit)

    (seeds / "odd.html").write_text("<html><title>Odd</title><p>Text.</p></html>")
    monkeypatch.setattr(articles, "read_file", failing)
    result = read_articles(seeds)
    assert [a.title for a in result.articles] == ["All Syrian IS fighters leave Raqa: monitor"]
    assert [str(s) for s in result.skipped] == ["skipped odd.html: cannot be parsed (LookupError)"]


def test_links_out_of_the_seeds_folder_are_skipped_and_never_served(
    seeds: Path, tmp_path: Path
) -> None:
    """A link is followed only into the seeds folder: what lies outside is never indexed."""
    outside = tmp_path / "private"
    (outside / "mail").mkdir(parents=True)
    secret = "Vault codes\n\nThe vault code is 4471, the treasurer said.\n"
    (outside / "codes.txt").write_text(secret, encoding="utf-8")
    (outside / "mail" / "letter.txt").write_text(secret, encoding="utf-8")
    (seeds / "codes.txt").symlink_to(outside / "codes.txt")
    (seeds / "mail").symlink_to(outside / "mail", target_is_directory=True)
    (seeds / "again.txt").symlink_to("raqqa-2017-10-15.txt")  # inside: read
    (seeds / "loop").symlink_to(seeds, target_is_directory=True)  # inside: walked anyway
    built = newsdesk("index", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "warning: skipped codes.txt: links outside the seeds folder" in built.stderr
    assert "warning: skipped mail: links outside the seeds folder" in built.stderr
    assert "Added: again.txt, raqqa-2017-10-15.txt" in built.stdout
    assert "2 files skipped" in built.stdout
    listed = newsdesk("index", "info", "--all", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Vault" not in listed.stdout and "codes.txt" not in listed.stdout
    asked = newsdesk("ask", "What is the vault code?", cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "4471" not in asked.stdout


def test_file_names_reach_the_terminal_escaped(seeds: Path, tmp_path: Path) -> None:
    """A name that would set the terminal's title and clear it is shown as escapes; a name
    that is not UTF-8 is skipped (the index keeps names as text), its bytes shown as values."""
    title_and_clear = "\x1b]0;pwned\x07\x1b[2J"
    (seeds / f"{title_and_clear}notes.bin").write_bytes(b"\x00")
    (seeds / "\x1b[31mred\u202etxt.txt").write_text("Red\n\nThe red line holds.\n")
    (seeds / os.fsdecode(b"caf\xe9.txt")).write_text("Cafe\n\nThe cafe opens.\n")
    built = newsdesk("index", "build", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    shown = built.stdout + built.stderr
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert r"warning: skipped \x1b]0;pwned\x07\x1b[2Jnotes.bin: unknown kind" in built.stderr
    assert r"warning: skipped caf\xe9.txt: its name is not UTF-8 text; rename it" in built.stderr
    assert r"Added: \x1b[31mred\u202etxt.txt, raqqa-2017-10-15.txt" in built.stdout
    listed = newsdesk("index", "info", cwd=tmp_path)
    assert listed.returncode == 0 and r"\x1b[31mred\u202etxt.txt" in listed.stdout
    assert "\x1b" not in listed.stdout

    others = tmp_path / "others"
    others.mkdir()
    (others / f"{title_and_clear}scan.pdf").write_bytes(b"%PDF")
    refused = newsdesk("--seeds", "others", "index", "build", cwd=tmp_path)
    assert refused.returncode == 1
    assert r"found only files of other kinds: \x1b]0;pwned\x07\x1b[2Jscan.pdf" in refused.stderr
    assert "\x1b" not in refused.stderr
