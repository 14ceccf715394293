"""Updates in proportion to the change: new, changed and removed articles go through the tail.

The index is built in full once with the session's model; every update after it embeds only
the new sentences, with the index's own question encoder, and is answered from at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.adding import save_article
from bot.config import Settings
from bot.engine import Engine
from bot.reports import describe_manifest
from bot.runtime import build_setup
from index.analysis.embedder import Embedder
from index.analysis.entities import EntityTagger
from index.indexing.update import SentenceEncoder, tail_limit, update_tail
from index.search.searcher import Searcher
from index.storage.manifest import read_manifest
from index.storage.store import current_build
from tests.conftest import SEED_ARTICLE

TUNNEL = """Harbour tunnel opens in Rotterdam

Posted March 3, 2005

The new harbour tunnel in Rotterdam opened on Thursday after seven years of work, the city's \
mayor Ivo Opstelten said.

The tunnel cost 480 million euros and will carry 40,000 cars a day, according to the port \
authority.
"""


def settings_for(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index")


@pytest.fixture
def engine(embedder: Embedder, tmp_path: Path) -> Engine:
    """A fully built index of the Raqqa seed, loaded as the front ends load it."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_ARTICLE, seeds / SEED_ARTICLE.name)
    return Engine.load(settings_for(tmp_path).index_setup(), build_missing=True, embedder=embedder)


def test_a_new_article_goes_to_the_tail_and_is_answered(engine: Engine, tmp_path: Path) -> None:
    before = engine.store.manifest.build_id
    (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    report = build_setup(settings_for(tmp_path).index_setup())
    assert report.added == ["tunnel.txt"] and report.embedded == 2
    manifest = read_manifest(current_build(tmp_path / "index"))
    assert manifest.tail is not None and manifest.tail.tail_sentences == 2
    assert manifest.tail.base_build == before
    assert manifest.tail.encoded_by == "question encoder"
    described = describe_manifest(manifest, current_build(tmp_path / "index"))
    assert "2 sentences in the tail (by the question encoder)" in described
    assert f"since full build {before}" in described and "encoded in " in described
    engine.reindex()  # nothing more changed: the live index stands, and is reloaded
    answer = engine.ask("How much did the Rotterdam harbour tunnel cost?")
    assert answer.short_answer == "480 million euros"
    assert answer.source is not None
    assert answer.source.title == "Harbour tunnel opens in Rotterdam"
    raqqa = engine.ask("Who said the final battle could take hours or days?")
    assert raqqa.short_answer == "Mustafa Bali"  # the full build's articles still answer


def test_a_changed_article_is_answered_anew_and_a_removed_one_is_gone(
    engine: Engine, tmp_path: Path
) -> None:
    tunnel = tmp_path / "seeds" / "tunnel.txt"
    tunnel.write_text(TUNNEL, encoding="utf-8")
    engine.reindex()
    tunnel.write_text(TUNNEL.replace("480 million euros", "520 million euros"), encoding="utf-8")
    report = engine.reindex()
    assert report.changed == ["tunnel.txt"]
    answer = engine.ask("How much did the Rotterdam harbour tunnel cost?")
    assert answer.short_answer == "520 million euros"
    found = Searcher(engine.store).search("The tunnel cost 480 million euros", k=20)
    assert not any("480" in s.record.text for hit in found.hits for s in hit.sentences)
    (tmp_path / "seeds" / SEED_ARTICLE.name).unlink()  # a full build's article, removed
    report = engine.reindex()
    assert report.removed == [SEED_ARTICLE.name]
    titles = [article.title for article in engine.articles()]
    assert titles == ["Harbour tunnel opens in Rotterdam"]
    assert engine.quotes("Mustafa Bali") == []
    gone = engine.ask("Who said the final battle could take hours or days?")
    assert gone.source is None or "Raqa" not in gone.source.title


def test_a_full_build_folds_the_tail_in_and_answers_the_same(
    engine: Engine, embedder: Embedder, tmp_path: Path
) -> None:
    (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    engine.reindex()
    tailed = engine.ask("How much did the Rotterdam harbour tunnel cost?")
    report = build_setup(settings_for(tmp_path).index_setup(), full=True, embedder=embedder)
    assert report.embedded == report.sentences  # --full re-embeds everything
    assert read_manifest(current_build(tmp_path / "index")).tail is None
    engine.reindex()
    folded = engine.ask("How much did the Rotterdam harbour tunnel cost?")
    assert (folded.sentence, folded.short_answer) == (tailed.sentence, tailed.short_answer)


def test_the_tail_vectors_agree_with_the_model(
    engine: Engine, embedder: Embedder, tmp_path: Path
) -> None:
    """The question encoder's vectors for new sentences are the model's, to float16 rounding."""
    (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    engine.reindex()
    tail = engine.store.manifest.tail
    assert tail is not None
    ids = [tail.id_sentences - 2, tail.id_sentences - 1]
    rows = engine.store.vectors[ids]
    records = engine.store.metadata.sentences(ids)
    model = embedder.embed([records[i].text for i in ids])
    assert float(np.min(np.sum(rows * model, axis=1))) > 0.999


def test_a_failed_update_leaves_the_live_index_whole(engine: Engine, tmp_path: Path) -> None:
    before = engine.store.folder

    def broken(texts: list[str]) -> np.ndarray:
        raise RuntimeError("the encoder broke")

    (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    setup = settings_for(tmp_path).index_setup()
    with pytest.raises(RuntimeError):
        update_tail(
            setup.seeds_dir,
            setup.index_dir,
            setup.build,
            EntityTagger(),
            lambda folder, manifest: SentenceEncoder(broken, "broken"),
            setup.model_name,
        )
    assert current_build(tmp_path / "index") == before
    assert [p.name for p in (tmp_path / "index" / "builds").iterdir()] == [before.name]
    assert tail_limit(1_000_000) == 50_000


def test_a_question_begun_before_two_quick_updates_still_reads_its_index(
    engine: Engine, tmp_path: Path
) -> None:
    """Updates through the tail come a second apart: a store is closed only well after its
    swap, so a question that took the searcher before them still reads it."""
    held = Searcher(engine.store)
    for number in range(2):
        story = TUNNEL.replace("Rotterdam", f"Rotterdam {number}")
        (tmp_path / "seeds" / f"tunnel-{number}.txt").write_text(story, encoding="utf-8")
        engine.reindex()
    assert held.search("Who said the final battle could take hours or days?").hits


def test_a_skipped_file_is_read_again_by_the_next_update(engine: Engine, tmp_path: Path) -> None:
    """A file skipped as too large is not stamped: once the limit allows it, it is indexed."""
    big = tmp_path / "seeds" / "big.txt"
    big.write_text(TUNNEL + "\n" + "The harbour was busy on Friday. " * 800, encoding="utf-8")
    small = settings_for(tmp_path).model_copy(update={"max_article_mb": 0.01})
    skipped = build_setup(small.index_setup())
    assert [skip.path for skip in skipped.skipped] == ["big.txt"]
    assert "big.txt" not in read_manifest(current_build(tmp_path / "index")).sources
    added = build_setup(settings_for(tmp_path).index_setup())
    assert added.added == ["big.txt"]


def test_idf_stays_positive_when_the_tail_removes_most_articles(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "seeds" / "tunnel.txt").write_text(TUNNEL, encoding="utf-8")
    engine.reindex()
    (tmp_path / "seeds" / SEED_ARTICLE.name).unlink()
    engine.reindex()
    found = Searcher(engine.store).search("Who opened the harbour tunnel in Rotterdam?")
    assert found.term_weights and min(found.term_weights.values()) > 0


def test_an_article_handed_over_twice_is_kept_once(tmp_path: Path) -> None:
    first = save_article(tmp_path, "story.txt", b"Title\n\nBody.\n", 2**20)
    again = save_article(tmp_path, "story.txt", b"Title\n\nBody.\n", 2**20)
    other = save_article(tmp_path, "story.txt", b"Title\n\nOther body.\n", 2**20)
    assert first == again and other.name == "story-2.txt"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["story-2.txt", "story.txt"]
