from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.corpus.articles import read_articles
from index.errors import NoArticlesError


def test_seed_article_title_and_spanish_month(seeds: Path) -> None:
    result = read_articles(seeds)
    [article] = result.articles
    assert article.title == "All Syrian IS fighters leave Raqa: monitor"
    assert article.date == "2017-10-15"  # "Posted Octubre 15, 2017"
    assert article.paragraphs[0].startswith("Yesterday, late in the evening")
    assert not any("Posted" in paragraph for paragraph in article.paragraphs)
    assert len(article.paragraphs) == 14
    assert result.skipped == []


def test_text_without_byline_keeps_first_paragraph(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\n\nYesterday it rained.\nA wrapped line.\n\nMore.\n")
    [article] = read_articles(tmp_path).articles
    assert article.date is None
    assert article.paragraphs == ("Yesterday it rained. A wrapped line.", "More.")


def test_markdown_html_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "m.md").write_text(
        "# Market report\n\nPublished 3 March 2020\n\nShares *rose* by [5%](http://x).\n"
    )
    (tmp_path / "h.html").write_text(
        "<html><head><title>Flood &amp; rain</title></head><body><nav>Home</nav>"
        "<time datetime='2021-05-02'>May</time><p>The river rose <b>2 metres</b>.</p>"
        "<script>var x;</script><p>Roads closed.</p></body></html>"
    )
    lines = [
        {"title": "One", "date": "15 octobre 2017", "text": "First.\n\nSecond.", "url": "http://a"},
        {"title": "Two", "text": "Only text."},
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    articles = {article.id: article for article in read_articles(tmp_path).articles}
    markdown, html = articles["m.md"], articles["h.html"]
    assert (markdown.title, markdown.date) == ("Market report", "2020-03-03")
    assert markdown.paragraphs == ("Shares rose by 5%.",)
    assert (html.title, html.date) == ("Flood & rain", "2021-05-02")
    assert html.paragraphs == ("The river rose 2 metres.", "Roads closed.")
    one, two = articles["feed.jsonl#1"], articles["feed.jsonl#2"]
    assert (one.date, one.url, one.paragraphs) == ("2017-10-15", "http://a", ("First.", "Second."))
    assert (two.title, two.date) == ("Two", None)


def test_bad_files_are_skipped_with_a_reason(seeds: Path) -> None:
    (seeds / "empty.txt").write_text("  \n")
    (seeds / "binary.txt").write_bytes(b"\x89PNG\x00\x01\x02")
    (seeds / "latin1.txt").write_bytes("Caf\xe9 title\n\nbody".encode("latin-1"))
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8")
    (seeds / "bad.jsonl").write_text('{"title": "x"}\nnot json\n')
    (seeds / "title-only.txt").write_text("Just a title\n")
    (seeds / ".hidden.txt").write_text("Hidden\n\nbody")
    result = read_articles(seeds)
    assert [article.id for article in result.articles] == ["raqqa-2017-10-15.txt"]
    reasons = {skip.path: skip.reason for skip in result.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.txt"] == "binary file, not text"
    assert reasons["latin1.txt"].startswith("not UTF-8 text")
    assert reasons["photo.jpg"] == "unknown kind of file '.jpg'"
    assert "missing 'text'" in reasons["bad.jsonl"]
    assert reasons["title-only.txt"] == "no body text after the title"
    assert ".hidden.txt" not in reasons
    assert all(str(skip).startswith(f"skipped {skip.path}: ") for skip in result.skipped)


def test_nested_folders_and_symlink_loop(seeds: Path) -> None:
    nested = seeds / "2024" / "may"
    nested.mkdir(parents=True)
    (nested / "b.txt").write_text("Nested\n\nBody text.")
    (seeds / "loop").symlink_to(seeds, target_is_directory=True)
    ids = [article.id for article in read_articles(seeds).articles]
    assert ids == ["2024/may/b.txt", "raqqa-2017-10-15.txt"]


def test_no_articles_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.bin").write_bytes(b"\x00")
    with pytest.raises(NoArticlesError, match="no article found"):
        read_articles(tmp_path)
    with pytest.raises(NoArticlesError, match="does not exist"):
        read_articles(tmp_path / "missing")
