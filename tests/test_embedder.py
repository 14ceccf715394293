from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index.analysis.embedder import (
    Embedder,
    cpu_has_bf16,
    fingerprint_folder,
    load_embedder,
    model_fingerprint,
    resolve_model_location,
    resolve_precision,
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


SENTENCES = [
    "The river rose.",
    "Shares in Acme Corp fell 4% on Tuesday after the company cut its forecast for 2018.",
    "Mustafa Bali, a spokesman for the SDF, said the final battle could take hours or days.",
    "Kurdish-led forces took the last streets of Raqqa on Sunday, October 15th.",
    "",
    "x " * 400,  # past the model's 256 tokens: truncated the same way in both precisions
    "Le gouvernement a annoncé des mesures. 😀",
    "BP said profits rose to $4.5bn in the three months to September.",
]


def test_bf16_vectors_agree_with_fp32(embedder: Embedder) -> None:
    """Interchangeable: bf16 rows sit at cosine >= 0.999 to fp32's, unit length, in order."""
    fp32 = embedder.with_precision("fp32").embed(SENTENCES)
    bf16 = embedder.with_precision("bf16").embed(SENTENCES)
    assert fp32.dtype == bf16.dtype == np.float32
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(fp32 * bf16, axis=1)
    assert cosines.min() >= 0.999, SENTENCES[int(np.argmin(cosines))]
    # Encoded longest first, returned in the order given: each row is its own text's.
    alone = embedder.with_precision("fp32").embed([SENTENCES[2]])
    assert float(alone[0] @ fp32[2]) > 0.99999


def test_precision_is_chosen_at_run_time_and_can_be_forced(embedder: Embedder) -> None:
    assert resolve_precision("auto") == ("bf16" if cpu_has_bf16() else "fp32")
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        resolve_precision("fp16")
    forced = embedder.with_precision("fp32")
    assert (forced.precision, forced.info.precision) == ("fp32", "fp32")
    assert forced.model is embedder.model  # one copy of the weights
    assert forced.info.fingerprint == embedder.info.fingerprint


def test_the_setting_reaches_the_build_embedder() -> None:
    """EMBED_PRECISION=fp32 forces float32; anything but auto/fp32/bf16 is one settings error."""
    from bot.config import Settings

    assert Settings(_env_file=None).index_setup().embed_precision == "auto"
    setup = Settings(_env_file=None, embed_precision="fp32").index_setup()
    assert setup.embed_precision == "fp32"
    with pytest.raises(ValidationError, match="embed_precision"):
        Settings(_env_file=None, embed_precision="fp16")


def test_batches_on_a_pool_give_the_same_rows(embedder: Embedder) -> None:
    """Side by side on a build's threads (torch on one thread each, restored after), in
    order, and float32 is sentence-transformers' own ``encode``."""
    import torch

    fp32 = embedder.with_precision("fp32")
    texts = SENTENCES * 5
    alone = fp32.embed(texts, batch_size=4)
    expected = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.sum(alone * expected, axis=1).min() > 0.99999
    before = torch.get_num_threads()
    steps: list[int] = []
    with ThreadPoolExecutor(2) as pool:
        beside = fp32.embed(texts, batch_size=4, pool=pool, on_step=steps.append)
    assert torch.get_num_threads() == before
    assert np.sum(alone * beside, axis=1).min() > 0.99999
    assert steps == [len(texts)]
