"""Search returns each passage with the sentences around it in its own article."""

from __future__ import annotations

from pathlib import Path

from index.analysis.embedder import Embedder
from index.corpus.passages import ChunkingSettings
from index.indexing.builder import BuildOptions, build_index
from index.search.searcher import Searcher
from index.storage.store import open_index

_HARBOUR = """Harbour bridge reopens

The council closed the old harbour bridge in March after engineers found cracks.

It reopened on Friday after repairs costing £4m.

Traffic was light on the first morning.

Shops on the quay said trade would recover.
"""
_ORCHARD = """Orchard harvest falls

Apple growers in the valley picked a smaller crop this autumn.

Frost in April cut the harvest by a third.
"""


def test_each_hit_comes_with_its_neighbours_from_the_same_article(
    tmp_path: Path, embedder: Embedder
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "harbour.txt").write_text(_HARBOUR, encoding="utf-8")
    (seeds / "orchard.txt").write_text(_ORCHARD, encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder, BuildOptions())
    store = open_index(
        tmp_path / "index", model_name=embedder.info.name, chunking=ChunkingSettings()
    )
    result = Searcher(store).search("When did the harbour bridge reopen after repairs?", k=1)

    (hit,) = result.hits
    assert hit.best.record.text == "It reopened on Friday after repairs costing £4m."
    around = {s.record.text for s in result.around.values()}
    # One paragraph, one sentence: the answer's subject ("It") is in the paragraph before.
    assert around == {
        "The council closed the old harbour bridge in March after engineers found cracks.",
        "Traffic was light on the first morning.",
    }
    assert all(s.record.article.key == hit.passage.article.key for s in result.around.values())
    for scored in result.around.values():
        assert -1.0 <= scored.similarity <= 1.0


def test_sentences_by_id_skips_ids_that_do_not_exist(tmp_path: Path, embedder: Embedder) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "orchard.txt").write_text(_ORCHARD, encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder, BuildOptions())
    store = open_index(
        tmp_path / "index", model_name=embedder.info.name, chunking=ChunkingSettings()
    )
    found = store.metadata.sentences([-1, 0, 1, 99])
    assert sorted(found) == [0, 1]
    assert found[1].text == "Frost in April cut the harvest by a third."
