"""Wiring shared by every front end: logging, loading the model, building from settings."""

from __future__ import annotations

import logging
import os

from bot.config import Settings
from index.builder import BuildReport, build_index
from index.embedder import Embedder, load_embedder

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
    # The weights-loading progress bar of transformers is noise for a one-line answer.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # transformers is optional to this function's purpose
        pass


def embedder_from_settings(settings: Settings) -> Embedder:
    return load_embedder(settings.embedding_model)


def build_from_settings(
    settings: Settings,
    *,
    full: bool = False,
    show_progress: bool = False,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Build or update the index the settings describe."""
    embedder = embedder or embedder_from_settings(settings)
    options = settings.build_options(full=full, show_progress=show_progress)
    return build_index(settings.seeds_dir, settings.index_dir, embedder, options)
