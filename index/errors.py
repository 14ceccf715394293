"""Named errors raised by the library.

Front ends catch ``NewsdeskError`` and show ``str(error)`` as one line to a person; the message
therefore says what went wrong and, where there is one, what to do about it.
"""

from __future__ import annotations

from enum import StrEnum


class Remedy(StrEnum):
    """What fixes an error, named, not worded: the front ends say how (a command, a button)."""

    BUILD = "build"  # no index yet
    REBUILD = "rebuild"  # the index is damaged or made otherwise: build it anew
    UPDATE = "update"  # an ordinary build repairs it (a missing question encoder)
    RETRAIN = "retrain"  # the answer model does not fit this code
    REINSTALL = "reinstall"  # a file that ships with Newsdesk is gone or damaged
    READER = "reader"  # the reader's files are gone, damaged or made otherwise
    CHOOSE_MODEL = "choose_model"  # the embedding model named cannot be loaded
    CHECK_ENGINE = "check_engine"  # the vector engine is down or its address is wrong


class NewsdeskError(Exception):
    """Base of every error the library raises on purpose.

    ``remedy`` says what fixes it (a class default, or given where it is raised); the library
    never names a command or a setting, which are the front ends' words.
    """

    remedy: Remedy | None = None

    def __init__(self, message: str = "", *, remedy: Remedy | None = None) -> None:
        super().__init__(message)
        if remedy is not None:
            self.remedy = remedy


class NoArticlesError(NewsdeskError):
    """The seeds folder is missing or holds no readable article."""


class ArticleSkipped(NewsdeskError):
    """One file could not be read as an article; the build goes on without it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"skipped {path}: {reason}")
        self.path = path
        self.reason = reason


class ModelLoadError(NewsdeskError):
    """The embedding model named in the settings cannot be loaded."""


class IndexMissingError(NewsdeskError):
    """No index has been built in the index folder yet."""

    remedy = Remedy.BUILD


class IndexMismatchError(NewsdeskError):
    """The index on disk was built with other settings (model, format, chunking)."""

    remedy = Remedy.REBUILD


class IndexCorruptError(NewsdeskError):
    """A file of the index is missing, truncated or unreadable."""

    remedy = Remedy.REBUILD


class BuildInProgressError(NewsdeskError):
    """Another build of the same index folder is running (from the CLI or the bot)."""


class BuildCancelledError(NewsdeskError):
    """A build was told to stop (the bot is stopping) before its swap; the live index stands."""


class IndexFolderError(NewsdeskError):
    """The index folder cannot be used: a file, someone else's folder, or inside the seeds."""


class IndexWriteError(NewsdeskError):
    """A build could not write its files (a full disk); the live index is untouched."""


class QueryEncoderError(NewsdeskError):
    """The build could not export the question encoder, or its vectors disagree with the model's."""


class VectorEngineError(NewsdeskError):
    """The vector engine (Milvus) failed or cannot be reached; nothing on disk was changed."""

    def __init__(self, message: str, remedy: Remedy | None = None) -> None:
        super().__init__(message, remedy=remedy)
