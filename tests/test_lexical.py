from __future__ import annotations

import bm25s
import Stemmer

from index.storage.lexical import LexicalIndex, term_spans, terms_of


def test_query_terms_match_bm25s_tokenization() -> None:
    text = "The U.S.-led coalition's 1,500 civilians surrendered; Café naïve élan, RAQQA's 10,000!"
    expected = bm25s.tokenize(
        [text],
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )[0]
    assert terms_of(text) == list(expected)
    for start, end, stem in term_spans(text):
        assert terms_of(text[start:end]) == [stem]


def test_stemmed_bm25_finds_inflected_words() -> None:
    index = LexicalIndex.build(["Fighters surrendered to the elders.", "The river rose."])
    scores = index.scores("Did any fighter surrender?")
    assert scores[0] > 0 and scores[1] == 0
    assert index.scores("nothing known here").tolist() == [0.0, 0.0]
    assert index.document_frequencies()["surrend"] == 1
