from __future__ import annotations

from pathlib import Path

from index.corpus.articles import Article, read_articles
from index.corpus.passages import ChunkingSettings, sentence_spans, split_article


def test_sentence_offsets_point_into_the_article(seeds: Path) -> None:
    [article] = read_articles(seeds).articles
    split = split_article(article, ChunkingSettings())
    assert len(split.sentences) == 16
    for sentence in split.sentences:
        assert article.text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip()
    # "U.S. -led" must not end a sentence.
    assert any("U.S. -led coalition" in sentence.text for sentence in split.sentences)
    assert [passage.paragraph for passage in split.passages] == list(range(14))
    for passage in split.passages:
        assert article.text[passage.start : passage.end] == passage.text


def test_long_paragraph_becomes_sentence_windows() -> None:
    paragraph = " ".join(f"Sentence number {i} has six words." for i in range(40))
    article = Article("a", "T", None, ("Intro.", paragraph), "a.txt")
    split = split_article(article, ChunkingSettings(passage_max_words=50))
    windows = [p for p in split.passages if p.paragraph == 1]
    assert len(windows) == 5  # 40 sentences of 6 words, 8 per window
    assert sum(p.sentence_count for p in windows) == 40
    for passage in windows:
        assert len(passage.text.split()) <= 50
        assert article.text[passage.start : passage.end] == passage.text


def test_overlong_run_without_full_stops_is_cut_at_spaces() -> None:
    text = "word " * 1000
    spans = sentence_spans(text, 300)
    assert all(end - start <= 300 for start, end in spans)
    assert " ".join(text[a:b] for a, b in spans).split() == text.split()
    assert sentence_spans("   ", 300) == []
