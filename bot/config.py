"""The one place settings are read: environment variables and ``.env``, typed by pydantic.

Everything below ``bot`` receives plain values from here; ``index`` never reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.builder import BuildOptions
from index.dense import DEFAULT_EXACT_LIMIT
from index.embedder import DEFAULT_MODEL
from index.passages import ChunkingSettings


class Settings(BaseSettings):
    """Newsdesk's settings; each field is the upper-case environment variable of its name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles to index.")
    index_dir: Path = Field(Path("var/index"), description="Where the index is written.")
    embedding_model: str = Field(
        DEFAULT_MODEL, description="sentence-transformers model name or local folder."
    )
    embedding_batch_size: int = Field(64, ge=1, le=4096)
    faiss_exact_limit: int = Field(
        DEFAULT_EXACT_LIMIT, ge=0, description="Above this many sentences FAISS uses IVF."
    )
    passage_max_words: int = Field(180, ge=20, le=2000)
    sentence_max_chars: int = Field(1000, ge=100, le=100_000)
    log_level: str = Field("WARNING", pattern="(?i)^(debug|info|warning|error|critical)$")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"

    @property
    def chunking(self) -> ChunkingSettings:
        return ChunkingSettings(
            passage_max_words=self.passage_max_words, sentence_max_chars=self.sentence_max_chars
        )

    def build_options(self, *, full: bool = False, show_progress: bool = False) -> BuildOptions:
        return BuildOptions(
            chunking=self.chunking,
            exact_limit=self.faiss_exact_limit,
            batch_size=self.embedding_batch_size,
            show_progress=show_progress,
            full=full,
        )
