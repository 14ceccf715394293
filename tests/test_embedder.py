from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.analysis.embedder import (
    Embedder,
    fingerprint_folder,
    load_embedder,
    model_fingerprint,
    resolve_model_location,
)
from index.errors import ModelLoadError, Remedy


def test_packaged_model_gives_unit_vectors(embedder: Embedder) -> None:
    vectors = embedder.embed(["The river rose.", "Shares fell."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    assert len(embedder.info.fingerprint) == 16


def test_same_folder_same_fingerprint(embedder: Embedder) -> None:
    folder = resolve_model_location(embedder.info.name)
    assert isinstance(folder, Path)
    assert fingerprint_folder(folder) == embedder.info.fingerprint


def test_unloadable_model_is_one_clear_error(tmp_path: Path) -> None:
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    with pytest.raises(ModelLoadError, match=r"cannot load embedding model") as error:
        load_embedder(str(not_a_model))
    assert error.value.remedy is Remedy.CHOOSE_MODEL
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelLoadError, match="is not a folder"):
        load_embedder(str(tmp_path / "file"))


def test_a_mistyped_model_name_fails_at_once_in_one_line() -> None:
    """Neither a folder nor cached nor fetchable (the tests run offline): no minute of retries."""
    with pytest.raises(ModelLoadError, match="not a local folder, not in the model cache") as error:
        load_embedder("sentence-transformers/all-MiniLM-L6-v3-typo")
    assert "\n" not in str(error.value) and error.value.remedy is Remedy.CHOOSE_MODEL


def test_the_fingerprint_is_known_without_loading_the_model(embedder: Embedder) -> None:
    """Questions check the index against the model's files this way, without torch."""
    assert model_fingerprint(embedder.info.name) == embedder.info.fingerprint
