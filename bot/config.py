"""The one place settings are read: environment variables and ``.env``, typed by pydantic.

Everything below ``bot`` receives plain values from here, through ``Settings.index_setup`` (what
the library needs) or a front end's own fields (Telegram's); ``index`` never reads the
environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.conversation import DEFAULT_MINUTES
from index.analysis.embedder import DEFAULT_MODEL
from index.answering.model import answer_model_fingerprint
from index.corpus.passages import ChunkingSettings
from index.indexing.builder import BuildOptions
from index.storage.dense import DEFAULT_COMPRESS_LIMIT, DEFAULT_EXACT_LIMIT
from index.storage.milvus_dense import MilvusAddress, redacted_uri

_CHUNKING = ChunkingSettings()  # the library's defaults, written once


@dataclass(frozen=True)
class IndexSetup:
    """The library's arguments from the settings, and nothing else (no token): what the engine,
    the builds and the benchmarks pass down."""

    seeds_dir: Path
    index_dir: Path
    model_name: str
    chunking: ChunkingSettings
    build: BuildOptions
    embed_precision: str = "auto"  # auto, fp32 or bf16: how builds run the encoder


def _is_engine_address(uri: str) -> bool:
    """Empty (Milvus Lite in the index folder), a ``.db`` file, ``unix:PATH``, or
    ``http[s]://`` or ``tcp://`` with a host: what pymilvus connects to."""
    if not uri or uri.endswith(".db") or uri.startswith("unix:"):
        return True
    try:
        parsed = urlsplit(uri)
        port_ok = parsed.port is None or 0 < parsed.port < 65536
    except ValueError:  # a port that is no number, a broken IPv6 host
        return False
    return parsed.scheme.lower() in {"http", "https", "tcp"} and bool(parsed.hostname) and port_ok


class SettingsError(Exception):
    """A setting is missing or malformed for the command asked for (exit code 2)."""


def _split_ids(value: object) -> object:
    """``"1, 2 3"`` -> ``{1, 2, 3}``: ids are written as a plain list, not JSON."""
    if isinstance(value, str):
        return {int(part) for part in value.replace(",", " ").split()}
    if isinstance(value, int):
        return {value}
    return value


# Telegram user or chat ids, from a comma- or space-separated list.
IdSet = Annotated[frozenset[int], NoDecode, BeforeValidator(_split_ids)]


class Settings(BaseSettings):
    """Newsdesk's settings; each field is the upper-case environment variable of its name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles to index.")
    index_dir: Path = Field(Path("var/index"), description="Where the index is written.")
    embedding_model: str = Field(
        DEFAULT_MODEL, description="sentence-transformers model name or local folder."
    )
    embedding_batch_size: int = Field(64, ge=1, le=4096)
    embed_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="How builds run the encoder: bf16 where the CPU has it (auto), or forced.",
    )
    faiss_exact_limit: int = Field(
        DEFAULT_EXACT_LIMIT, ge=0, description="Above this many sentences FAISS uses IVF."
    )
    faiss_compress_limit: int = Field(
        DEFAULT_COMPRESS_LIMIT,
        ge=0,
        description="Above this many sentences the IVF lists hold 6-bit codes, re-ranked exactly.",
    )
    faiss_nlist: int = Field(0, ge=0, description="IVF lists; 0 sizes them by the count.")
    faiss_nprobe: int = Field(
        0,
        ge=0,
        description="IVF lists probed; 0 is nlist / 64 (at most 12 for 6-bit lists).",
    )
    vector_backend: Literal["faiss", "milvus"] = Field(
        "faiss", description="Where the sentence vectors are searched: FAISS files, or Milvus."
    )
    milvus_uri: str = Field(
        "",
        description="Milvus server or cluster (http://host:19530); empty: Milvus Lite in "
        "INDEX_DIR/milvus.db.",
    )
    milvus_token: SecretStr | None = Field(None, description="user:password for a cluster.")
    max_article_mb: float = Field(
        10.0, gt=0, le=1024, description="Bigger files (or JSON lines) are skipped unread."
    )
    passage_max_words: int = Field(_CHUNKING.passage_max_words, ge=20, le=2000)
    sentence_max_chars: int = Field(_CHUNKING.sentence_max_chars, ge=100, le=100_000)
    feedback_max_mb: float = Field(
        5.0,
        gt=0,
        le=1024,
        description="Past this the feedback log keeps each voter's latest vote, "
        "then drops its oldest votes.",
    )
    log_level: str = Field("WARNING", pattern="(?i)^(debug|info|warning|error|critical)$")
    watch_seconds: float = Field(
        60,
        ge=0,
        le=24 * 3600,
        description="How often the console and the bot look for new, changed or removed "
        "articles in SEEDS_DIR and update the index; 0: never.",
    )
    follow_up_minutes: float = Field(
        DEFAULT_MINUTES,
        ge=0,
        le=24 * 60,
        description="Minutes a chat's last answer is kept for follow-ups; 0: none.",
    )

    telegram_bot_token: SecretStr | None = Field(None, description="Bot token from @BotFather.")
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base URL (a local Bot API server)."
    )
    allowed_user_ids: IdSet = Field(default_factory=frozenset, description="Empty: anyone.")
    allowed_chat_ids: IdSet = Field(default_factory=frozenset, description="Empty: any chat.")
    admin_user_ids: IdSet = Field(default_factory=frozenset, description="/stats, /reindex.")
    rate_limit_per_minute: int = Field(
        20, ge=1, description="Questions, button presses and commands per user per minute."
    )
    telegram_sends_per_second: int = Field(
        30, ge=0, description="Bot-wide cap on Bot API requests (Telegram's is ~30/s); 0: none."
    )
    telegram_max_in_flight: int = Field(
        4, ge=1, le=256, description="Updates taken from Telegram and worked on at once."
    )
    telegram_state_dir: Path | None = Field(
        None,
        description="Where the bot keeps the updates it took but has not answered; "
        "empty: INDEX_DIR.",
    )
    webhook_url: str | None = Field(None, description="Set to run a webhook instead of polling.")
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    @field_validator("milvus_uri")
    @classmethod
    def _engine_address(cls, uri: str, info: ValidationInfo) -> str:
        """A URI pymilvus can connect to, checked here so that a typo is one line naming the
        setting (pymilvus's own refusal is a traceback); the value shown is redacted."""
        if info.data.get("vector_backend") != "milvus" or _is_engine_address(uri):
            return uri
        raise PydanticCustomError(
            "milvus_uri",
            "not a URI or a .db path: {uri} (write http://host:19530, or a file ending in .db "
            "for Milvus Lite)",
            {"uri": repr(redacted_uri(uri))},
        )

    def milvus_address(self) -> MilvusAddress | None:
        """Where Milvus runs when it holds the vectors (VECTOR_BACKEND=milvus), else None."""
        if self.vector_backend != "milvus":
            return None
        uri = self.milvus_uri or str(self.index_dir / "milvus.db")
        token = self.milvus_token.get_secret_value() if self.milvus_token else ""
        return MilvusAddress(uri, token)

    def index_setup(self) -> IndexSetup:
        """The one adapter from these settings to the library's explicit arguments."""
        chunking = ChunkingSettings(
            passage_max_words=self.passage_max_words, sentence_max_chars=self.sentence_max_chars
        )
        build = BuildOptions(
            chunking=chunking,
            exact_limit=self.faiss_exact_limit,
            ivf_nlist=self.faiss_nlist,
            ivf_nprobe=self.faiss_nprobe,
            compress_limit=self.faiss_compress_limit,
            batch_size=self.embedding_batch_size,
            max_article_bytes=int(self.max_article_mb * 2**20),
            answer_model=answer_model_fingerprint(),
            milvus=self.milvus_address(),
        )
        return IndexSetup(
            self.seeds_dir,
            self.index_dir,
            self.embedding_model,
            chunking,
            build,
            embed_precision=self.embed_precision,
        )
