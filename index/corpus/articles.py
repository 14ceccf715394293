"""Read news articles from a seeds folder: plain text, Markdown, HTML and JSON Lines.

Every reader produces the same ``Article``. A file that cannot be read is reported as an
``ArticleSkipped`` and the rest of the folder is still read, so one bad file never stops a build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from index.errors import ArticleSkipped, NoArticlesError

# corpus.dates (dateparser) and corpus.markup (BeautifulSoup, markdown-it) are imported where
# articles are read, not here: questions import this module (``printable``) and never read an
# article, and those imports cost a third of a second of a question's cold start.

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

# A NUL byte in the first block is the cheap, reliable sign of a binary file.
_BINARY_PROBE_BYTES = 8192
# One article (a file, or one JSON line) past this is no news story: skipped, never read whole.
DEFAULT_MAX_ARTICLE_BYTES = 10 * 1024 * 1024
_READ_CHUNK = 1024 * 1024


# C0 and C1 control characters, DEL, and the line and paragraph separators; tab and newline
# are only spacing and stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` without control characters (a terminal would act on them)."""
    return _CONTROL.sub("", text)


# In a name, also tab and newline (a name is one line), the bidirectional embeddings, overrides
# and isolates (they make a name read as another), and the lone surrogates that stand for the
# bytes of a name that is not UTF-8.
_UNSAFE_IN_NAMES = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable_name(name: str) -> str:
    """``name`` (a file's name or path, or a line naming one) safe on a terminal and still
    findable: each control character written as its escape (``\\x1b``), each undecodable byte
    as its value (``\\xff``), so nothing in it drives the terminal (sets its title, clears it).
    """
    return _UNSAFE_IN_NAMES.sub(_escape, name)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the byte code - 0xDC00
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@dataclass(frozen=True)
class Article:
    """One article: its title, ISO date (or None), and body paragraphs in reading order."""

    id: str
    title: str
    date: str | None
    paragraphs: tuple[str, ...]
    path: str
    url: str | None = None
    text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Control characters are no part of a story, and printed raw they drive a terminal
        # ("ESC ] 0 ; title BEL" renames its window): they never get into the index.
        object.__setattr__(self, "title", printable(self.title))
        object.__setattr__(self, "paragraphs", tuple(printable(p) for p in self.paragraphs))
        # The article text is the paragraphs joined by blank lines; sentence offsets point into it.
        object.__setattr__(self, "text", "\n\n".join(self.paragraphs))

    @property
    def paragraph_starts(self) -> list[int]:
        """Offset of each paragraph inside ``text``."""
        starts, position = [], 0
        for paragraph in self.paragraphs:
            starts.append(position)
            position += len(paragraph) + 2
        return starts

    @property
    def content_hash(self) -> str:
        """A hash of everything the index is built from, to tell changed articles apart."""
        payload = json.dumps([self.title, self.date, self.url, self.paragraphs], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class ReadResult:
    """What reading a folder gave: the articles, and the files skipped with their reasons."""

    articles: list[Article]
    skipped: list[ArticleSkipped]


def read_articles(folder: Path, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> ReadResult:
    """Read every article under ``folder`` (recursively, in a stable order) into a list.

    See ``iter_articles``; a build streams them instead.
    """
    skipped: list[ArticleSkipped] = []
    articles = list(iter_articles(folder, skipped, max_article_bytes))
    return ReadResult(articles, skipped)


def iter_articles(
    folder: Path,
    skipped: list[ArticleSkipped],
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
) -> Iterator[Article]:
    """Yield every article under ``folder`` (recursively, in a stable order), one file at a time.

    Files (and JSON Lines lines) that cannot be read are appended to ``skipped`` with their
    reasons. Memory stays bounded by ``max_article_bytes`` per article: a bigger file is
    skipped without being read, and JSON Lines files are read line by line. A file that
    vanishes between listing and reading is skipped like any unreadable one.
    Raises ``NoArticlesError`` when the folder is missing or, once read, yielded no article.
    """
    if not folder.is_dir():
        raise NoArticlesError(f"seeds folder {folder} does not exist or is not a folder")
    found_any = False
    for path in sorted(iter_article_files(folder, skipped)):
        for article in read_seed_file(path, folder, skipped, max_article_bytes):
            found_any = True
            yield article
    if not found_any:
        raise NoArticlesError(
            f"no article found in {folder}: add .txt, .md, .html or .jsonl files"
            + (f" ({len(skipped)} file(s) skipped)" if skipped else "")
        )


def read_seed_file(
    path: Path,
    folder: Path,
    skipped: list[ArticleSkipped],
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
) -> list[Article]:
    """The articles of one file of the seeds ``folder``; whatever is wrong goes to ``skipped``."""
    relative = path.relative_to(folder).as_posix()
    if not _is_utf8(relative):  # the index stores names as text: this one is bytes
        skipped.append(ArticleSkipped(relative, "its name is not UTF-8 text; rename it"))
        return []
    try:
        found, bad_lines = read_file(path, relative, max_article_bytes)
    except ArticleSkipped as skip:
        skipped.append(skip)
        return []
    except OSError as error:
        skipped.append(ArticleSkipped(relative, f"cannot be read ({error.strerror or error})"))
        return []
    except Exception as error:  # a parser's own failure: one bad file never stops a build
        skipped.append(ArticleSkipped(relative, f"cannot be parsed ({type(error).__name__})"))
        return []
    skipped.extend(bad_lines)
    return found


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(size, modification time in ns) of a seed file, or None when it cannot be read: an
    update re-reads only the files whose stamp differs from the one its build recorded."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_seeds_folder(folder: Path, named: int = 3) -> None:
    """Raise ``NoArticlesError`` now, before a model loads, when ``folder`` cannot give articles.

    Cheap: it lists files, reads none. A folder whose files are all of kinds never read (a PDF,
    a .docx) is refused naming the first ``named`` of them and the kinds that are read.
    """
    if not folder.is_dir():
        raise NoArticlesError(f"seeds folder {folder} does not exist or is not a folder")
    others: list[str] = []
    for path in iter_article_files(folder):
        if path.suffix.lower() in KNOWN_SUFFIXES:
            return
        others.append(path.relative_to(folder).as_posix())
    found = ""
    if others:
        shown = ", ".join(printable_name(name) for name in others[:named])
        more = f" and {len(others) - named} more" if len(others) > named else ""
        found = f" (found only files of other kinds: {shown}{more})"
    raise NoArticlesError(
        f"no article found in {folder}: add .txt, .md, .html or .jsonl files{found}"
    )


def iter_article_files(folder: Path, skipped: list[ArticleSkipped] | None = None) -> Iterator[Path]:
    """Yield the files under ``folder`` (hidden ones left out), links only into ``folder``.

    The seeds folder is what a build may read and then serve to anyone who asks, so a link must
    not widen it: a link (to a file or a folder) whose target lies outside ``folder`` is passed
    over and, given ``skipped``, reported there. A file link inside is read; a folder link is
    never descended, as its target inside ``folder`` is walked anyway (its files are read at
    their own paths) and a link loop is then harmless.
    """
    root = folder.resolve()
    for top, dirs, files in os.walk(folder, followlinks=False):
        here = Path(top)
        kept_dirs = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            if not (here / name).is_symlink():
                kept_dirs.append(name)
            elif _leads_outside(here / name, root):
                _skip_link(here / name, folder, skipped)
        dirs[:] = kept_dirs
        for name in sorted(f for f in files if not f.startswith(".")):
            path = here / name
            if path.is_symlink() and _leads_outside(path, root):
                _skip_link(path, folder, skipped)
            else:
                yield path


def _leads_outside(link: Path, root: Path) -> bool:
    """Whether ``link``, followed all the way (even to nothing), ends outside ``root``.

    A loop of links ends nowhere: reading it fails and is reported as unreadable.
    """
    try:
        return not link.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a loop (RuntimeError in Python 3.11 and 3.12)
        return False


def _skip_link(path: Path, folder: Path, skipped: list[ArticleSkipped] | None) -> None:
    if skipped is not None:
        relative = path.relative_to(folder).as_posix()
        skipped.append(ArticleSkipped(relative, "links outside the seeds folder"))


def read_file(
    path: Path, relative: str, max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
) -> tuple[list[Article], list[ArticleSkipped]]:
    """Read one file into its articles (one, or several for JSON Lines) and its skipped lines.

    Only regular files are opened (a FIFO would block the build forever); the open is
    non-blocking for that reason, and the checks use the opened file's own ``fstat``.
    """
    suffix = path.suffix.lower()
    if suffix not in KNOWN_SUFFIXES:
        raise ArticleSkipped(relative, f"unknown kind of file '{suffix or path.name}'")
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ArticleSkipped(relative, "not a regular file")
        if suffix in JSONL_SUFFIXES:
            return _read_jsonl(handle, relative, max_article_bytes)
        if info.st_size > max_article_bytes:
            raise ArticleSkipped(relative, _too_large(info.st_size, max_article_bytes))
        data = handle.read(max_article_bytes + 1)  # bounded, even if the file grew since
        if len(data) > max_article_bytes:
            raise ArticleSkipped(relative, _too_large(len(data), max_article_bytes))
        text = _decode(data, relative)
    if suffix in TEXT_SUFFIXES:
        blocks = _text_blocks(text)
        title = blocks.pop(0) if blocks else ""
    elif suffix in MARKDOWN_SUFFIXES:
        from index.corpus.markup import html_blocks, markdown_to_html

        title, blocks = html_blocks(markdown_to_html(text))
    else:
        from index.corpus.markup import html_blocks

        title, blocks = html_blocks(text)
    return [_article_from_blocks(relative, title, blocks)], []


def _too_large(size: int, limit: int) -> str:
    return f"too large for one article ({size / 2**20:.1f} MB; {_limit(limit)})"


def _limit(limit: int) -> str:
    return f"the limit is {limit / 2**20:.1f} MB, MAX_ARTICLE_MB"


def _decode(data: bytes, relative: str) -> str:
    if not data.strip():
        raise ArticleSkipped(relative, "empty file")
    if b"\x00" in data[:_BINARY_PROBE_BYTES]:
        raise ArticleSkipped(relative, "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleSkipped(relative, f"not UTF-8 text (byte {error.start})") from None


def _text_blocks(text: str) -> list[str]:
    """Split plain text on blank lines; lines inside a block are joined (hard-wrapped text)."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def _article_from_blocks(relative: str, title: str, blocks: list[str]) -> Article:
    """Take the byline date off the first block when it is one, and build the article."""
    title = " ".join(title.split())
    date = None
    if blocks:
        from index.corpus.dates import find_byline_date

        date = find_byline_date(blocks[0])
        if date is not None:
            blocks = blocks[1:]
    paragraphs = tuple(block for block in blocks if block.strip())
    if not title:
        raise ArticleSkipped(relative, "no title found")
    if not paragraphs:
        raise ArticleSkipped(relative, "no body text after the title")
    return Article(id=relative, title=title, date=date, paragraphs=paragraphs, path=relative)


def _read_jsonl(
    handle: BinaryIO, relative: str, max_line_bytes: int
) -> tuple[list[Article], list[ArticleSkipped]]:
    """One article per line: ``title``, ``text``, optional ``date`` and ``url``.

    Read line by line, so a big archive never sits in memory whole; a line over
    ``max_line_bytes`` is passed over unread. A bad line is skipped (and reported) on its own;
    the file is skipped only when no line is usable.
    """
    probe = handle.read(_BINARY_PROBE_BYTES)
    if b"\x00" in probe:
        raise ArticleSkipped(relative, "binary file, not text")
    handle.seek(0)
    articles, problems = [], []
    for number, line in enumerate(_bounded_lines(handle, max_line_bytes), start=1):
        if line is None:
            problems.append(f"line {number}: too long for one article ({_limit(max_line_bytes)})")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
            articles.append(_article_from_json(record, relative, number))
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as error:
            problems.append(f"line {number}: {error}")
        except RecursionError:  # json's parser recurses once per level of nesting
            problems.append(f"line {number}: nested too deeply")
    if not articles:
        reason = "; ".join(problems[:3]) or "no article lines"
        raise ArticleSkipped(relative, f"no usable JSON line ({reason})")
    if not problems:
        return articles, []
    # One report per file, however many lines: a broken archive must not flood the output.
    shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
    count = f"{len(problems)} line{'s' if len(problems) > 1 else ''} skipped"
    return articles, [ArticleSkipped(relative, f"{count} ({shown})")]


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """The file's lines, or None for a line longer than ``limit`` (skipped in chunks).

    The limit counts the line's content, not its ending (``\n`` or ``\r\n``).
    """
    while True:
        line = handle.readline(limit + 2)
        if not line:
            return
        if line.endswith(b"\n") or len(line) < limit + 2:  # the whole line (or the last)
            yield line if len(line.rstrip(b"\r\n")) <= limit else None
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the long line
            line = handle.readline(_READ_CHUNK)
        yield None


def _article_from_json(record: object, relative: str, number: int) -> Article:
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    title, body = record.get("title"), record.get("text")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("missing 'title'")
    if not isinstance(body, str) or not body.strip():
        raise ValueError("missing 'text'")
    raw_date, url = record.get("date"), record.get("url")
    from index.corpus.dates import parse_date

    date = parse_date(raw_date) if isinstance(raw_date, str) and raw_date.strip() else None
    return Article(
        id=f"{relative}#{number}",
        title=" ".join(title.split()),
        date=date,
        paragraphs=tuple(_text_blocks(body)),
        path=relative,
        url=url if isinstance(url, str) and url.strip() else None,
    )
