"""Wiring shared by every front end: logging, loading the model, building from settings."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from bot.config import IndexSetup
from index.analysis.embedder import Embedder, load_embedder, model_fingerprint
from index.analysis.entities import EntityTagger
from index.analysis.query_encoder import QueryEncoder, damaged_file
from index.corpus.articles import check_seeds_folder
from index.errors import NewsdeskError
from index.indexing.builder import BuildReport, build_index
from index.indexing.progress import ProgressCallback
from index.indexing.update import SentenceEncoder, update_tail
from index.storage.folder import claim_index_folder
from index.storage.manifest import Manifest

# onnxruntime threads for the question encoder of ``ask`` and ``console``, one question at a
# time. Measured by ``newsdesk bench start`` on two cores (warm p50, three runs each): the same
# within 2 ms when nothing else runs (10-12 ms), and 12-17 ms against 33-40 ms for one thread
# while two other processes keep both cores busy. The bot keeps one thread per question worker.
ONE_SHOT_QUERY_THREADS = 2


# Libraries that talk at INFO (model loading bars, HTTP request lines) are kept at WARNING.
_NOISY_LOGGERS = ("httpx", "httpcore", "sentence_transformers", "transformers", "bm25s", "faiss")


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; quiet the chattiest libraries unless debugging."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if level.upper() != "DEBUG":
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        # pymilvus logs its reconnection attempts with their tracebacks; what failed reaches the
        # user as one VectorEngineError line instead.
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        # gRPC's C core (under pymilvus) writes its own lines to stderr: errors only.
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    # The weights-loading progress bar of transformers is noise for a one-line answer.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_build_embedder(setup: IndexSetup) -> Embedder:
    """Load the sentence-transformers model (torch: seconds), for a build, encoding in the
    precision the settings ask for (``EMBED_PRECISION``; auto: bf16 where the CPU has it)."""
    # Imported here, not at start: importing transformers costs a second that questions,
    # which never load it, should not pay.
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return load_embedder(setup.model_name, precision=setup.embed_precision)


def check_build_folders(setup: IndexSetup) -> None:
    """The checks a build makes of its folders, made before the model loads (seconds): a
    missing or unusable seeds or index folder is one line at once, not after the wait."""
    check_seeds_folder(setup.seeds_dir)
    claim_index_folder(setup.index_dir, setup.seeds_dir)


def build_setup(
    setup: IndexSetup,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
    say: Callable[[str], None] | None = None,
    tagger: EntityTagger | None = None,
    load: Callable[[], Embedder] | None = None,
    tail: bool = True,
    query_encoder: QueryEncoder | None = None,
) -> BuildReport:
    """Build or update the index ``setup`` describes; ``say`` hears of slow silent steps,
    ``progress`` of every step (``bot.build_progress.BuildDisplay`` shows them).

    A few new, changed or removed articles go to the live index's tail (``indexing.update``),
    embedded by ``embedder`` or, without one, by the index's own question encoder (no torch;
    ``query_encoder``, the one a running engine holds, is used when it is the live build's);
    otherwise (``full``, a first build, a tail grown too long, or ``tail`` False: the live
    build lacks a part only a build makes) the model is loaded, by ``load`` when given, and
    the index built in full, reusing every vector it can.
    """
    check_build_folders(setup)
    tagger = tagger or EntityTagger()
    options = replace(setup.build, full=full, on_progress=progress)
    fingerprint = embedder.info.fingerprint if embedder else model_fingerprint(setup.model_name)
    report = (
        update_tail(
            setup.seeds_dir,
            setup.index_dir,
            options,
            tagger,
            partial(_sentence_encoder, embedder, query_encoder),
            setup.model_name,
            fingerprint,
        )
        if tail
        else None
    )
    if report is not None:
        return report
    embedder = embedder or (load or partial(load_build_embedder, setup))()
    return build_index(setup.seeds_dir, setup.index_dir, embedder, options, tagger, say=say)


def _sentence_encoder(
    embedder: Embedder | None,
    loaded: QueryEncoder | None,
    folder: Path,
    manifest: Manifest,
) -> SentenceEncoder | None:
    """The loaded model when there is one, else the live build's ONNX question encoder
    (``loaded``, the engine's, when it is that build's: no second load and hash of its 90 MB);
    None when the live build has no question encoder or a damaged one (a full build remakes
    it)."""
    info = manifest.query_encoder
    if info is None:
        return None
    encoder = loaded if loaded is not None and loaded.folder == folder else None
    if encoder is None and damaged_file(folder, info) is not None:
        return None
    if embedder is not None:
        return SentenceEncoder(embedder.embed, "model")
    if encoder is None:
        try:
            encoder = QueryEncoder(folder, info, threads=1)  # its files were checked just now
        except NewsdeskError:
            return None  # a damaged encoder: the full build remakes it

    def encode(texts: list[str]) -> np.ndarray:
        return np.vstack([encoder.embed_query(text) for text in texts])

    return SentenceEncoder(encode, "question encoder")


def import_lightgbm_without_sklearn() -> None:
    """Import LightGBM with scikit-learn hidden from it, when neither is imported yet.

    LightGBM imports scikit-learn whenever it is installed (sentence-transformers brings it),
    for its sklearn-style estimators, which Newsdesk never uses: the answer model is three
    Boosters and the trainer calls ``lightgbm.train``. That import is a second of a question's
    cold start (``python -X importtime``). It is hidden for this one import only; anything
    imported later, sklearn included, imports as usual.
    """
    if "lightgbm" in sys.modules or "sklearn" in sys.modules:
        return
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # makes "import sklearn" fail
    try:
        importlib.import_module("lightgbm")
    finally:
        del sys.modules["sklearn"]
