"""The question-time encoder: the build's model exported to ONNX, run by onnxruntime.

A question is one short text, encoded once; paying for torch and sentence-transformers to do it
(seconds of import, hundreds of MB) would dwarf the rest of answering. The build exports the
model's transformer, its pooling and the normalisation into one ONNX graph next to a copy of
its tokenizer (see ``index.analysis.onnx_export``), and checks there that both give the vectors
sentence-transformers gives. This module needs only onnxruntime, tokenizers and numpy.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexCorruptError, Remedy

QUERY_MODEL_FILE = "query_encoder.onnx"  # the graph; it names the weights file beside it
# The weights apart from the graph: onnxruntime then maps them instead of parsing them out of
# one protobuf, which halves its start (0.35 s to 0.15 s) and its peak memory (+145 to +55 MB).
QUERY_WEIGHTS_FILE = "query_encoder.weights"
QUERY_TOKENIZER_FILE = "query_tokenizer.json"
QUERY_FILES = (QUERY_MODEL_FILE, QUERY_WEIGHTS_FILE, QUERY_TOKENIZER_FILE)
OUTPUT_NAME = "sentence_embedding"


@dataclass(frozen=True)
class QueryEncoderInfo:
    """What the manifest records about the exported query encoder.

    ``model_fingerprint`` is the fingerprint of the model folder it was exported from (a build
    with other model files exports again); ``hashes`` holds each file's SHA-256, checked before
    every load, so that a damaged file is refused rather than answering with wrong vectors.
    """

    hashes: dict[str, str]
    model_fingerprint: str
    inputs: tuple[str, ...]
    max_tokens: int
    min_cosine: float  # the worst agreement with sentence-transformers measured by the build

    @property
    def fingerprint(self) -> str:
        """One hash for all the files, as 16 hex digits."""
        joined = "".join(f"{name}:{self.hashes[name]}\n" for name in sorted(self.hashes))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryEncoderInfo:
        return cls(
            hashes={str(name): str(value) for name, value in data["hashes"].items()},
            model_fingerprint=str(data["model_fingerprint"]),
            inputs=tuple(str(name) for name in data["inputs"]),
            max_tokens=int(data["max_tokens"]),
            min_cosine=float(data["min_cosine"]),
        )


def file_hashes(folder: Path) -> dict[str, str]:
    """The SHA-256 of each of the encoder's files (about 90 MB in all: some 60 ms).

    Raises ``OSError`` when one cannot be read.
    """
    hashes = {}
    for name in QUERY_FILES:
        with (folder / name).open("rb") as handle:
            hashes[name] = hashlib.file_digest(handle, "sha256").hexdigest()
    return hashes


def damaged_file(folder: Path, info: QueryEncoderInfo) -> str | None:
    """The name of the first encoder file that is missing or differs from ``info``, if any."""
    for name in QUERY_FILES:
        path = folder / name
        try:
            with path.open("rb") as handle:
                found = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return name
        if found != info.hashes.get(name):
            return name
    return None


class QueryEncoder:
    """One ONNX session and its tokenizer: ``embed_query`` turns a text into a unit row.

    ``threads`` is onnxruntime's intra-op thread count. A server answering several questions
    side by side wants 1 (one core per question; more threads would only contend for the same
    cores); a single question on an idle machine gains little from 2 (``bench start``). The
    session is safe to run from several threads at once.
    """

    def __init__(self, folder: Path, info: QueryEncoderInfo, *, threads: int = 1) -> None:
        self.folder = folder
        self.info = info
        self.threads = threads
        self._tokenizer = _load_tokenizer(folder / QUERY_TOKENIZER_FILE, info.max_tokens)
        self._session = _load_session(folder / QUERY_MODEL_FILE, threads)
        wanted = set(info.inputs)
        found = {node.name for node in self._session.get_inputs()}
        if found != wanted:
            raise IndexCorruptError(
                f"query encoder {folder / QUERY_MODEL_FILE} takes {sorted(found)}, its manifest "
                f"says {sorted(wanted)}",
                remedy=Remedy.UPDATE,
            )

    @classmethod
    def open(cls, folder: Path, info: QueryEncoderInfo, *, threads: int = 1) -> QueryEncoder:
        """Check the files against ``info.fingerprint``, then load them.

        Raises ``IndexCorruptError`` naming the file when one is missing, damaged or unreadable.
        """
        damaged = damaged_file(folder, info)
        if damaged is not None:
            path = folder / damaged
            what = "is damaged (not the file the build wrote)" if path.is_file() else "is missing"
            raise IndexCorruptError(f"query encoder file {path} {what}", remedy=Remedy.UPDATE)
        return cls(folder, info, threads=threads)

    def embed_query(self, text: str) -> np.ndarray:
        """Encode one text; returns a ``(1, dimension)`` float32 unit row ready for FAISS."""
        encoding = self._tokenizer.encode(text)
        columns = {
            "input_ids": encoding.ids,
            "attention_mask": encoding.attention_mask,
            "token_type_ids": encoding.type_ids,
        }
        feeds = {name: np.asarray([columns[name]], dtype=np.int64) for name in self.info.inputs}
        (vector,) = self._session.run([OUTPUT_NAME], feeds)
        return np.ascontiguousarray(vector, dtype=np.float32)


def _load_tokenizer(path: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # the Rust side raises a bare Exception for any bad file
        raise IndexCorruptError(
            f"query tokenizer {path} is unreadable ({error})", remedy=Remedy.UPDATE
        ) from None
    # Set here, not trusted from the file: sentence-transformers truncates at the model's
    # max_seq_length and pads nothing for one text; tokenizer.json files often say otherwise.
    tokenizer.no_padding()
    if max_tokens > 0:
        tokenizer.enable_truncation(max_tokens)
    else:
        tokenizer.no_truncation()
    return tokenizer


def cpu_session(path: Path, threads: int) -> Any:
    """An onnxruntime CPU session on ``threads`` intra-op threads, sequential, not spinning.

    Raises onnxruntime's own exception for a file it cannot read.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Spinning worker threads burn the cores other questions (or other processes) need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # onnxruntime's warnings are about its own graph choices
    return onnxruntime.InferenceSession(
        os.fspath(path), options, providers=["CPUExecutionProvider"]
    )


def _load_session(path: Path, threads: int) -> Any:
    try:
        return cpu_session(path, threads)
    except Exception as error:  # onnxruntime raises its own classes for every bad file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise IndexCorruptError(
            f"query encoder {path} is unreadable by onnxruntime ({reason})", remedy=Remedy.UPDATE
        ) from None
