"""``manifest.json``: what an index was built from and with, checked before it is ever used.

An index built with another model, format or chunking would answer with vectors that mean
something else; ``check_compatible`` refuses it with the rebuild command instead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from index.analysis.embedder import ModelInfo
from index.analysis.entities import TaggerInfo
from index.analysis.query_encoder import QueryEncoderInfo
from index.corpus.passages import ChunkingSettings
from index.errors import IndexCorruptError, IndexMismatchError
from index.storage.dense import DenseParams

# 2: entities per sentence (meta.sqlite) and the tagger in the manifest.
FORMAT_VERSION = 2
MANIFEST_NAME = "manifest.json"
COUNT_NAMES = ("articles", "paragraphs", "passages", "sentences")


@dataclass(frozen=True)
class ArticleEntry:
    """One indexed article: enough to reuse its vectors and to cite it."""

    title: str
    date: str | None
    path: str
    hash: str
    first_sentence: int
    sentence_count: int


@dataclass(frozen=True)
class Tail:
    """The articles added since the last full build, kept beside its files (``segments.py``).

    Ids run on past the full build's: sentence ids ``base_sentences`` and up have their
    vectors in ``tail_vectors.npy``, passage ids ``base_passages`` and up are scored by a small
    BM25 kept in memory. ``ids`` are the lengths of the id spaces (holes included): the
    sentences and passages of removed or changed articles stay as holes until the next full
    build, listed in ``removed_sentences.npy`` and ``removed_passages.npy``.
    """

    base_build: str
    base_sentences: int
    base_passages: int
    id_sentences: int
    id_passages: int
    id_articles: int
    encoded_by: str  # what made the tail's vectors: "question encoder" (ONNX) or "model"

    @property
    def tail_sentences(self) -> int:
        return self.id_sentences - self.base_sentences


@dataclass
class Manifest:
    format: int
    build_id: str
    built_at: str
    build_seconds: float
    model: ModelInfo
    entities: TaggerInfo
    chunking: ChunkingSettings
    dense: DenseParams
    counts: dict[str, int]
    articles: dict[str, ArticleEntry]
    files: dict[str, int]
    libraries: dict[str, str] = field(default_factory=dict)
    answer_model: str = ""  # fingerprint of the answer model the index was built for
    # The ONNX question encoder; None in an index built before there was one (the next build
    # adds it, reusing every vector) or by an embedder with no model to export.
    query_encoder: QueryEncoderInfo | None = None
    tail: Tail | None = None  # None: a full build, every file its own
    # Each seed file's (size, mtime in ns) when the build read it: an update reads only the
    # files whose stamp changed. Empty in builds from before: the next update reads them all.
    sources: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            format=int(data["format"]),
            build_id=str(data["build_id"]),
            built_at=str(data["built_at"]),
            build_seconds=float(data["build_seconds"]),
            model=ModelInfo(**data["model"]),
            entities=TaggerInfo(**data["entities"]),
            chunking=ChunkingSettings(**data["chunking"]),
            dense=DenseParams(**data["dense"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            articles={k: ArticleEntry(**v) for k, v in data["articles"].items()},
            files={str(k): int(v) for k, v in data["files"].items()},
            libraries=dict(data.get("libraries", {})),
            answer_model=str(data.get("answer_model", "")),
            query_encoder=(
                QueryEncoderInfo.from_dict(data["query_encoder"])
                if data.get("query_encoder")
                else None
            ),
            tail=(Tail(**data["tail"]) if data.get("tail") else None),
            sources={
                str(path): (int(stamp[0]), int(stamp[1]))
                for path, stamp in data.get("sources", {}).items()
            },
        )


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")


def read_manifest(folder: Path) -> Manifest:
    """Read and validate a build's manifest; ``IndexCorruptError`` names the file if it is bad."""
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest.from_dict(data)
    except FileNotFoundError:
        raise IndexCorruptError(f"index manifest {path} is missing") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(
            f"index manifest {path} is unreadable ({type(error).__name__}: {error})"
        ) from None
    if manifest.format != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index manifest {path} has format {manifest.format}, this Newsdesk reads "
            f"format {FORMAT_VERSION}"
        )
    # A hand-edited manifest must fail here, not later as a KeyError deep in a load.
    missing = [name for name in COUNT_NAMES if name not in manifest.counts]
    if missing or any(count < 0 for count in manifest.counts.values()):
        raise IndexCorruptError(f"index manifest {path} has bad counts {manifest.counts}")
    if len(manifest.articles) != manifest.counts["articles"]:
        raise IndexCorruptError(
            f"index manifest {path} lists {len(manifest.articles)} articles but counts "
            f"{manifest.counts['articles']}"
        )
    return manifest


def check_compatible(
    manifest: Manifest,
    model: ModelInfo | None,
    model_name: str,
    chunking: ChunkingSettings,
    *,
    tagger: TaggerInfo | None = None,
    folder: Path | None = None,
    model_fingerprint: str | None = None,
) -> None:
    """Raise ``IndexMismatchError`` unless the index matches the model and chunking in use.

    ``model`` may be None when the model is not loaded: then its name is compared, and its
    files' ``model_fingerprint`` when given (``embedder.model_fingerprint``). With the
    build ``folder``, the message names its manifest, so a person knows which file says so.
    """
    index = f"index {folder / MANIFEST_NAME}" if folder is not None else "index"
    built = manifest.model
    if built.name != model_name:
        raise IndexMismatchError(
            f"{index} was built with model '{built.name}' but the settings name '{model_name}'"
        )
    if model is not None and (built.fingerprint, built.dimension) != (
        model.fingerprint,
        model.dimension,
    ):
        raise IndexMismatchError(
            f"{index} was built with other files of model '{built.name}' "
            f"(fingerprint {built.fingerprint}, now {model.fingerprint})"
        )
    if model_fingerprint is not None and built.fingerprint != model_fingerprint:
        raise IndexMismatchError(
            f"{index} was built with other files of model '{built.name}' "
            f"(fingerprint {built.fingerprint}, now {model_fingerprint})"
        )
    if tagger is not None and manifest.entities != tagger:
        raise IndexMismatchError(
            f"{index} was tagged with {manifest.entities.pipeline} "
            f"{manifest.entities.version}, this Newsdesk tags with {tagger.pipeline} "
            f"{tagger.version}"
        )
    if manifest.chunking != chunking:
        raise IndexMismatchError(
            f"{index} was built with other chunking settings ({asdict(manifest.chunking)})"
        )


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose output the index holds."""
    versions = {}
    for name in (
        "newsdesk",
        "sentence-transformers",
        "torch",
        "faiss-cpu",
        "bm25s",
        "blingfire",
        "spacy",
        "onnx",
        "onnxruntime",
        "tokenizers",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions
