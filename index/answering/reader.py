"""The reader: a small transformer that reads the question beside each candidate sentence.

For each of the ranker's best candidates it gives P(this sentence answers the question) and the
start and end of the short answer inside the sentence. It was trained by the project
(``newsdesk train reader``) from the all-MiniLM-L6-v2 weights, exported to ONNX and is run here
by onnxruntime with the model's own tokenizer through ``tokenizers``: no torch on the question
path. Its files ship in the package beside ``reader.json``, which holds their SHA-256 (checked
at load: a damaged file is refused, never read), how the input is laid out, and the combiner
that turns the reader's and the ranker's scores into the answer's one calibrated probability.

One input is ``[CLS] question [SEP] sentence [SEP] title ; sentence before [SEP]``: the sentence
comes first after the question so that its tokens (the only ones a short answer may start or
end on) are never cut, and the context is cut first when the input is too long.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.analysis.query_encoder import cpu_session
from index.errors import NewsdeskError, Remedy

READER_FORMAT = 1
DEFAULT_READER_PATH = Path(__file__).with_name("reader.json")
MAX_QUESTION_TOKENS = 32
MAX_SENTENCE_TOKENS = 64
MAX_SPAN_TOKENS = 24  # a short answer is a few words, not a clause


class ReaderError(NewsdeskError):
    """The reader's files are missing, damaged, or made for another layout."""

    remedy = Remedy.READER


@dataclass(frozen=True)
class ReaderInput:
    """One encoded (question, candidate) pair and where the sentence's tokens lie in it."""

    ids: list[int]
    type_ids: list[int]
    first: int  # index of the sentence's first token
    offsets: list[tuple[int, int]]  # character span in the sentence of each sentence token


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one candidate sentence."""

    logit: float  # the answer head's score: sigmoid gives P(answers)
    span: tuple[int, int] | None  # characters of the short answer in the sentence
    span_score: float  # start + end logits of that span, minus the best (0 for the best)


def encode_pair(
    tokenizer: Any, question: str, sentence: str, before: str, title: str, max_tokens: int
) -> ReaderInput:
    """Lay out one pair as the reader was trained on it (the training script calls this too)."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    asked = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    told = tokenizer.encode(sentence, add_special_tokens=False)
    sentence_ids = told.ids[:MAX_SENTENCE_TOKENS]
    offsets = [tuple(pair) for pair in told.offsets[:MAX_SENTENCE_TOKENS]]
    context = f"{title} ; {before}" if before else title
    room = max_tokens - len(asked) - len(sentence_ids) - 4
    context_ids = tokenizer.encode(context, add_special_tokens=False).ids[: max(room, 0)]
    ids = [cls_id, *asked, sep_id, *sentence_ids, sep_id, *context_ids, sep_id]
    first = len(asked) + 2
    type_ids = [0] * first + [1] * (len(ids) - first)
    return ReaderInput(ids, type_ids, first, offsets)


def batch_arrays(inputs: list[ReaderInput]) -> dict[str, np.ndarray]:
    """Pad a batch to its longest input (int64, as the graph takes them)."""
    width = max(len(one.ids) for one in inputs)
    ids = np.zeros((len(inputs), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, one in enumerate(inputs):
        ids[row, : len(one.ids)] = one.ids
        types[row, : len(one.ids)] = one.type_ids
        mask[row, : len(one.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def best_span(
    one: ReaderInput, starts: np.ndarray, ends: np.ndarray
) -> tuple[tuple[int, int] | None, float]:
    """The highest-scoring (start, end) over the sentence's tokens, as characters, and its score."""
    count = len(one.offsets)
    if count == 0:
        return None, -math.inf
    start_scores = starts[one.first : one.first + count]
    end_scores = ends[one.first : one.first + count]
    grid = start_scores[:, None] + end_scores[None, :]
    allowed = np.triu(np.ones((count, count), dtype=bool)) & ~np.triu(
        np.ones((count, count), dtype=bool), MAX_SPAN_TOKENS
    )
    grid = np.where(allowed, grid, -np.inf)
    start, end = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return (one.offsets[int(start)][0], one.offsets[int(end)][1]), float(grid[start, end])


COMBINER_FEATURES = (
    "reader_logit",
    "ranker_logit",
    "reader_below_best",  # the reader's logit minus the best of the question's candidates
    "span_score",  # the best span's start + end logits, over 10
    "bias",
)


def combiner_rows(readings: list[Reading], ranker: list[float]) -> np.ndarray:
    """One row of ``COMBINER_FEATURES`` per candidate of one question."""
    if not readings:
        return np.zeros((0, len(COMBINER_FEATURES)))
    best = max(reading.logit for reading in readings)
    return np.asarray(
        [
            [
                reading.logit,
                _logit(probability),
                reading.logit - best,
                max(reading.span_score, -200.0) / 10.0,
                1.0,
            ]
            for reading, probability in zip(readings, ranker, strict=True)
        ]
    )


def _logit(probability: float) -> float:
    p = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Combiner:
    """The logistic layer over the reader's and the ranker's scores of each candidate.

    Fitted by the training script on questions the reader never trained on, so its output is a
    calibrated P(this sentence answers the question): the answer's confidence.
    """

    weights: tuple[float, ...]  # one for each of ``COMBINER_FEATURES``
    threshold: float  # answer when the best candidate's probability reaches it

    def probabilities(self, readings: list[Reading], ranker: list[float]) -> np.ndarray:
        """P(answers) of each candidate of one question."""
        rows = combiner_rows(readings, ranker)
        return 1.0 / (1.0 + np.exp(-(rows @ np.asarray(self.weights))))


class Reader:
    """The loaded reader: ``read`` scores candidates of one question in one batch."""

    def __init__(self, session: Any, tokenizer: Any, meta: dict[str, Any], fingerprint: str):
        self._session = session
        self._tokenizer = tokenizer
        self.max_tokens = int(meta["max_tokens"])
        self.candidates = int(meta["candidates"])  # how many of the ranker's best it reads
        combiner = meta["combiner"]
        self.combiner = Combiner(
            tuple(float(w) for w in combiner["weights"]), float(combiner["threshold"])
        )
        if combiner.get("features") != list(COMBINER_FEATURES):
            raise ReaderError("reader.json's combiner reads other features")
        self.fingerprint = fingerprint
        self.training: dict[str, Any] = dict(meta.get("training", {}))

    def read(self, question: str, pairs: list[tuple[str, str, str]]) -> list[Reading]:
        """Read ``question`` beside each (sentence, sentence before, title)."""
        if not pairs:
            return []
        inputs = [
            encode_pair(self._tokenizer, question, s, before, title, self.max_tokens)
            for s, before, title in pairs
        ]
        logits, starts, ends = self._session.run(None, batch_arrays(inputs))
        readings = []
        for row, one in enumerate(inputs):
            span, score = best_span(one, starts[row], ends[row])
            readings.append(Reading(float(logits[row]), span, score))
        return readings


def reader_fingerprint(path: Path = DEFAULT_READER_PATH) -> str:
    """The fingerprint ``load_reader`` gives (16 hex digits of reader.json), "" if absent."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def load_reader(path: Path = DEFAULT_READER_PATH, *, threads: int = 1) -> Reader:
    """Check every file of the reader against ``path``'s hashes, then load it.

    Raises ``ReaderError`` in one line naming the file that is missing, damaged or unreadable.
    """
    try:
        raw = path.read_bytes()
        meta = json.loads(raw)
        if meta["format"] != READER_FORMAT:
            raise ReaderError(f"reader {path} has another format")
        files = {str(name): str(digest) for name, digest in meta["files"].items()}
        model_name, tokenizer_name = str(meta["model"]), str(meta["tokenizer"])
    except FileNotFoundError:
        raise ReaderError(f"reader {path} is missing") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReaderError(f"reader {path} is unreadable ({type(error).__name__})") from None
    for name, digest in files.items():
        file = path.with_name(name)
        try:
            with file.open("rb") as handle:
                found = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            raise ReaderError(f"reader file {file} is missing") from None
        if found != digest:
            raise ReaderError(f"reader file {file} is damaged (its SHA-256 differs)")
    tokenizer = _tokenizer(path.with_name(tokenizer_name))
    session = _session(path.with_name(model_name), threads)
    return Reader(session, tokenizer, meta, hashlib.sha256(raw).hexdigest()[:16])


def _tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # the Rust side raises a bare Exception for any bad file
        raise ReaderError(f"reader tokenizer {path} is unreadable ({error})") from None
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _session(path: Path, threads: int) -> Any:
    try:
        return cpu_session(path, threads)
    except Exception as error:  # onnxruntime raises its own classes for every bad file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ReaderError(f"reader {path} is unreadable by onnxruntime ({reason})") from None
