"""The learned answer model: which sentence answers, and whether to answer at all.

Three small sets of gradient-boosted trees (LightGBM), trained by ``newsdesk train answers``:
the ranker gives P(this sentence answers the question) from ``features.FEATURES``; the
verifier reads the question-level ``verifier.VERIFIER_FEATURES`` of the best one and gives P(the
best sentence is the answer), the answer's confidence; the span scorer picks the short answer
among the sentence's typed spans (``span_choice.SPAN_FEATURES``). The weights travel as
one JSON file in the package (LightGBM's own text format inside, never a pickle, which would
run code when loaded) with the feature names, the abstention threshold, how it was trained,
and a checksum of the trees, so a damaged or foreign file is refused at load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.answering.features import FEATURES
from index.answering.reader import DEFAULT_READER_PATH, Reader, load_reader, reader_fingerprint
from index.answering.span_choice import SPAN_FEATURES
from index.answering.verifier import VERIFIER_FEATURES
from index.errors import NewsdeskError, Remedy

if TYPE_CHECKING:
    import lightgbm

MODEL_FORMAT = 3
DEFAULT_MODEL_PATH = Path(__file__).with_name("answer_model.json")


class AnswerModelError(NewsdeskError):
    """The answer model file is missing, damaged, or made for other features."""


@dataclass(frozen=True)
class AnswerModel:
    """Loaded trees plus the one threshold that decides between answering and declining."""

    booster: lightgbm.Booster
    verifier: lightgbm.Booster
    spans: lightgbm.Booster  # which typed span of the sentence is the short answer
    threshold: float  # on the verifier's probability
    fingerprint: str  # sha256 of the file (and the reader's), recorded in the index manifest
    training: dict[str, Any]
    # Reads the ranker's best candidates and decides (``index.answering.reading``); None: the
    # trees alone decide, as ``newsdesk train answers`` measures them.
    reader: Reader | None = None

    @property
    def answer_threshold(self) -> float:
        """The confidence an answer needs: the reader's combiner's, else the verifier's."""
        return self.reader.combiner.threshold if self.reader is not None else self.threshold

    def predict(self, features: np.ndarray) -> np.ndarray:
        """P(answers) for each row of ``features``."""
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)

    def confidence(self, row: np.ndarray) -> float:
        """P(the best sentence is the answer) from one row of verifier features."""
        return float(self.verifier.predict(row, num_threads=1)[0])

    def score_spans(self, rows: np.ndarray) -> np.ndarray:
        """P(this span is the short answer) for each row of ``span_choice.SPAN_FEATURES``."""
        return np.asarray(self.spans.predict(rows, num_threads=1), dtype=np.float64)


def answer_model_fingerprint(
    path: Path = DEFAULT_MODEL_PATH, reader_path: Path | None = DEFAULT_READER_PATH
) -> str:
    """The fingerprint ``load_answer_model`` gives, without loading anything ("" if absent)."""
    try:
        trees = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""
    return _joined(trees, reader_fingerprint(reader_path) if reader_path else "")


def _joined(trees: str, reader: str) -> str:
    """The trees' fingerprint alone, or one hash of both when a reader decides too."""
    return hashlib.sha256(f"{trees}:{reader}".encode()).hexdigest()[:16] if reader else trees


def load_answer_model(
    path: Path = DEFAULT_MODEL_PATH, reader_path: Path | None = DEFAULT_READER_PATH
) -> AnswerModel:
    """Read and check the model file and the reader's (``reader_path``; None: trees alone).

    ``AnswerModelError`` or ``ReaderError`` says in one line what is wrong.
    """
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
        trees, checks, picks = str(data["booster"]), str(data["verifier"]), str(data["spans"])
        if _checksum(trees, checks, picks) != data["checksum"]:
            raise AnswerModelError(
                f"answer model {path} is damaged (its trees do not match their checksum)",
                remedy=Remedy.REINSTALL,
            )
        if (
            data["format"] != MODEL_FORMAT
            or tuple(data["features"]) != FEATURES
            or tuple(data["verifier_features"]) != VERIFIER_FEATURES
            or tuple(data["span_features"]) != SPAN_FEATURES
        ):
            raise AnswerModelError(
                f"answer model {path} was made for other features or format",
                remedy=Remedy.RETRAIN,
            )
        threshold = float(data["threshold"])
        training = dict(data.get("training", {}))
    except FileNotFoundError:
        raise AnswerModelError(f"answer model {path} is missing", remedy=Remedy.REINSTALL) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AnswerModelError(
            f"answer model {path} is unreadable ({type(error).__name__})",
            remedy=Remedy.REINSTALL,
        ) from None
    import lightgbm

    try:
        booster = lightgbm.Booster(model_str=trees)
        verifier = lightgbm.Booster(model_str=checks)
        spans = lightgbm.Booster(model_str=picks)
    except lightgbm.basic.LightGBMError as error:
        raise AnswerModelError(f"answer model {path} has unreadable trees ({error})") from None
    reader = load_reader(reader_path) if reader_path is not None else None
    fingerprint = _joined(
        hashlib.sha256(raw).hexdigest()[:16], reader.fingerprint if reader else ""
    )
    return AnswerModel(booster, verifier, spans, threshold, fingerprint, training, reader)


def _checksum(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
    return digest.hexdigest()


def save_answer_model(
    path: Path,
    booster: lightgbm.Booster,
    verifier: lightgbm.Booster,
    spans: lightgbm.Booster,
    threshold: float,
    training: dict[str, Any],
) -> str:
    """Write the model file; returns its fingerprint."""
    trees, checks = booster.model_to_string(), verifier.model_to_string()
    picks = spans.model_to_string()
    data = {
        "format": MODEL_FORMAT,
        "features": list(FEATURES),
        "verifier_features": list(VERIFIER_FEATURES),
        "span_features": list(SPAN_FEATURES),
        "threshold": threshold,
        "training": training,
        "checksum": _checksum(trees, checks, picks),
        "booster": trees,
        "verifier": checks,
        "spans": picks,
    }
    raw = json.dumps(data, indent=1).encode()
    path.write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()[:16]
