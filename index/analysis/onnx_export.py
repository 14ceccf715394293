"""Build time: export the query encoder to ONNX and prove it agrees with sentence-transformers.

The exported graph is the model's own modules run end to end (transformer, pooling, any
normalisation) plus an L2 normalisation, traced by torch's ONNX exporter, so whatever pooling
the model's folder configures is what the graph computes. The tokenizer is the model's own fast
tokenizer saved as ``tokenizers`` JSON; ``index.analysis.query_encoder`` sets its truncation to the
model's ``max_seq_length`` at load. The agreement check encodes a sample of the index's own
sentences one at a time, as questions are, and compares them with the vectors of the build.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis.query_encoder import (
    OUTPUT_NAME,
    QUERY_FILES,
    QUERY_MODEL_FILE,
    QUERY_TOKENIZER_FILE,
    QUERY_WEIGHTS_FILE,
    QueryEncoder,
    QueryEncoderInfo,
    file_hashes,
)
from index.errors import QueryEncoderError

# float32 export gives cosine 1.0000 against sentence-transformers; anything under this means a
# wrong export (another pooling, a tokenizer that truncates differently), not rounding.
MIN_COSINE = 0.9999
CHECK_SAMPLE = 48  # sentences compared per build: some 0.3 s
_OPSET = 17
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

log = logging.getLogger(__name__)


def export_query_encoder(model: Any, model_fingerprint: str, folder: Path) -> QueryEncoderInfo:
    """Write the ONNX query encoder of the sentence-transformers ``model`` into ``folder``.

    The returned info has ``min_cosine`` 0 until ``check_agreement`` measures it. Raises
    ``QueryEncoderError`` when the model cannot be exported (no fast tokenizer, inputs other
    than BERT-like ones, an operator the exporter lacks).
    """
    import torch

    tokenizer = getattr(getattr(model, "tokenizer", None), "backend_tokenizer", None)
    if tokenizer is None:
        raise QueryEncoderError(
            "the embedding model has no fast tokenizer to export for questions; "
            "use a sentence-transformers model with a tokenizer.json"
        )
    prepare = getattr(model, "preprocess", None) or model.tokenize
    features = prepare(["Who said the final battle could take hours or days?"])
    inputs = tuple(name for name in _INPUT_NAMES if isinstance(features.get(name), torch.Tensor))
    extra = [n for n, v in features.items() if isinstance(v, torch.Tensor) and n not in inputs]
    if "input_ids" not in inputs or extra:
        raise QueryEncoderError(
            f"the embedding model takes inputs {sorted(features)}; only BERT-like models "
            f"({', '.join(_INPUT_NAMES)}) can be exported for questions"
        )

    class SentenceEmbedding(torch.nn.Module):
        """Token ids in, unit sentence vectors out: the whole question path in one graph."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            output = self.model(dict(zip(inputs, tensors, strict=True)))
            return torch.nn.functional.normalize(output["sentence_embedding"], dim=1)

    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    whole = folder / f"{QUERY_MODEL_FILE}.whole"
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the tracer's warnings are about control flow
            torch.onnx.export(
                SentenceEmbedding().eval(),
                tuple(features[name] for name in inputs),
                os.fspath(whole),
                input_names=list(inputs),
                output_names=[OUTPUT_NAME],
                dynamic_axes={**axes, OUTPUT_NAME: {0: "batch"}},
                opset_version=_OPSET,
                dynamo=False,  # the TorchScript exporter: seconds, and no onnxscript needed
            )
    except OSError:  # a full disk is the build's to report (IndexWriteError), not the model's
        whole.unlink(missing_ok=True)
        raise
    except Exception as error:  # the exporter's failures are many and all mean the same here
        whole.unlink(missing_ok=True)
        raise QueryEncoderError(
            f"the embedding model cannot be exported to ONNX for questions "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        ) from None
    _split_weights(whole, folder)
    tokenizer.save(os.fspath(folder / QUERY_TOKENIZER_FILE))
    return QueryEncoderInfo(
        hashes=file_hashes(folder),
        model_fingerprint=model_fingerprint,
        inputs=inputs,
        max_tokens=int(getattr(model, "max_seq_length", 0) or 0),
        min_cosine=0.0,
    )


def _split_weights(whole: Path, folder: Path) -> None:
    """Rewrite the exported graph with its weights in a file of their own (see query_encoder)."""
    import onnx

    model = onnx.load(os.fspath(whole))
    onnx.save_model(
        model,
        os.fspath(folder / QUERY_MODEL_FILE),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=QUERY_WEIGHTS_FILE,
        size_threshold=1024,
    )
    shutil.copymode(whole, folder / QUERY_WEIGHTS_FILE)  # onnx writes it private (0600)
    whole.unlink()


def check_agreement(
    folder: Path, info: QueryEncoderInfo, texts: list[str], vectors: np.ndarray
) -> float:
    """The worst cosine between the encoder's vectors of ``texts`` and ``vectors`` (row each).

    Raises ``QueryEncoderError`` when it is under ``MIN_COSINE``, or when the files cannot be
    loaded at all.
    """
    if not texts:
        return 1.0
    try:
        encoder = QueryEncoder(folder, info, threads=1)
    except Exception as error:  # a file that does not load is a failed export here
        raise QueryEncoderError(f"the exported query encoder does not load ({error})") from None
    encoded = np.vstack([encoder.embed_query(text) for text in texts])
    cosines = np.sum(encoded * np.asarray(vectors, dtype=np.float32), axis=1)
    worst = int(np.argmin(cosines))
    if float(cosines[worst]) < MIN_COSINE:
        raise QueryEncoderError(
            f"the ONNX query encoder disagrees with sentence-transformers: cosine "
            f"{cosines[worst]:.5f} < {MIN_COSINE} on sentence {texts[worst][:60]!r}; "
            "questions would be encoded unlike the index"
        )
    return float(cosines[worst])


def sample_rows(count: int, size: int = CHECK_SAMPLE) -> list[int]:
    """Rows to check: a fixed-seed sample, so a rebuild checks the same sentences."""
    if count <= size:
        return list(range(count))
    rows = np.random.default_rng(0).choice(count, size=size, replace=False)
    return sorted(int(row) for row in rows)


def reuse_files(source: Path, target: Path) -> None:
    """Hard-link the previous build's encoder files into ``target`` (a copy across devices)."""
    for name in QUERY_FILES:
        try:
            os.link(source / name, target / name)
        except OSError:
            shutil.copyfile(source / name, target / name)
