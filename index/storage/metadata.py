"""Sentence, passage and article records in SQLite, off the Python heap.

Row ids are the ids FAISS (sentences) and BM25 (passages) return, so a hit is one primary-key
look-up away from its text and source. The sentence-to-passage map, needed on every question,
is a memory-mapped NumPy array beside the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.analysis.entities import Entity, entities_from_rows
from index.analysis.statements import clean_name, extract_statements, speaker_key
from index.corpus.articles import Article
from index.corpus.passages import SplitArticle
from index.errors import IndexCorruptError

MAX_NAME_CHARS = 100  # the longest speaker's name looked up

_SCHEMA = """
CREATE TABLE articles (
    id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, title TEXT NOT NULL, date TEXT,
    path TEXT NOT NULL, url TEXT
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, article INTEGER NOT NULL, paragraph INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    first_sentence INTEGER NOT NULL, sentence_count INTEGER NOT NULL
);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, article INTEGER NOT NULL, paragraph INTEGER NOT NULL,
    passage INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    event_date TEXT
);
CREATE TABLE entities (
    sentence INTEGER NOT NULL, label TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE TABLE entity_names (name TEXT PRIMARY KEY, label TEXT NOT NULL, count INTEGER NOT NULL);
CREATE TABLE statements (
    sentence INTEGER NOT NULL, speaker TEXT NOT NULL, key TEXT NOT NULL, surname TEXT NOT NULL,
    label TEXT NOT NULL, role TEXT NOT NULL, verb TEXT NOT NULL, start INTEGER NOT NULL,
    end INTEGER NOT NULL, resolved INTEGER NOT NULL
);
"""
# Entities are read by sentence id ranges; the index is made after the rows are in (faster).
_ENTITY_INDEX = "CREATE INDEX entities_by_sentence ON entities (sentence)"
_STATEMENT_INDEXES = (
    "CREATE INDEX statements_by_key ON statements (key)",
    "CREATE INDEX statements_by_surname ON statements (surname)",
    "CREATE INDEX statements_by_sentence ON statements (sentence)",
)
_STATEMENT_COLUMNS = (
    "st.sentence, st.speaker, st.key, st.label, st.role, st.verb, st.start, st.end, st.resolved"
)


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article as a citation needs it."""

    key: str
    title: str
    date: str | None
    path: str
    url: str | None


@dataclass(frozen=True)
class SentenceRecord:
    id: int
    article: ArticleRecord
    paragraph: int
    passage: int
    start: int
    end: int
    text: str
    entities: tuple[Entity, ...] = ()
    # When its events happened, resolved from its own date words at build time (see
    # ``index.corpus.event_dates``): "2017-10-14", "2017-W41" or "2017-09"; None if unsaid.
    event_date: str | None = None


@dataclass(frozen=True)
class StatementRecord:
    """A stored statement with its sentence: who said it, how, and its span in the sentence."""

    sentence: SentenceRecord
    speaker: str
    key: str
    label: str
    role: str
    verb: str
    start: int
    end: int
    resolved: bool  # the sentence names the speaker by a pronoun or role only

    @property
    def text(self) -> str:
        return self.sentence.text[self.start : self.end]


@dataclass(frozen=True)
class PassageRecord:
    id: int
    article: ArticleRecord
    paragraph: int
    start: int
    end: int
    text: str
    first_sentence: int
    sentence_count: int


@dataclass(frozen=True)
class ArticleSpan:
    """An indexed article's key and the id ranges of its sentences and passages."""

    key: str
    first_sentence: int
    stop_sentence: int
    first_passage: int
    stop_passage: int


class MetadataWriter:
    """Writes a build's records into a new SQLite file, an article batch at a time.

    Ids run on across batches; each batch's rows are committed when added, so memory holds one
    batch (and the entity-name counts), whatever the size of the corpus. ``finish`` makes the
    indexes and the entity-name table.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(path)
        self.connection.executescript(_SCHEMA)
        self.articles = self.passages = self.sentences = 0
        self._names: Counter[tuple[str, str]] = Counter()

    @classmethod
    def extend(cls, path: Path, articles: int, passages: int, sentences: int) -> MetadataWriter:
        """Add to the copy of a build's file at ``path``, ids starting at the given ones.

        An index's tail (``storage.segments``) is written so: its ids run on past the full
        build's, and the records of the articles it replaces are deleted (``remove_articles``).
        """
        writer = cls.__new__(cls)
        writer.path = path
        writer.connection = sqlite3.connect(path)
        writer.articles, writer.passages, writer.sentences = articles, passages, sentences
        writer._names = Counter()
        return writer

    def remove_articles(self, spans: Sequence[ArticleSpan]) -> tuple[list[int], list[int]]:
        """Delete the records of these articles; returns their sentence and passage ids.

        By id ranges and the key's unique index: a scan of the table per article cost 0.2 s
        at a million sentences.
        """
        sentence_ids: list[int] = []
        passage_ids: list[int] = []
        connection = self.connection
        for span in spans:
            sentences = (span.first_sentence, span.stop_sentence)
            connection.execute(
                "DELETE FROM entities WHERE sentence >= ? AND sentence < ?", sentences
            )
            connection.execute(
                "DELETE FROM statements WHERE sentence >= ? AND sentence < ?", sentences
            )
            connection.execute("DELETE FROM sentences WHERE id >= ? AND id < ?", sentences)
            connection.execute(
                "DELETE FROM passages WHERE id >= ? AND id < ?",
                (span.first_passage, span.stop_passage),
            )
            connection.execute("DELETE FROM articles WHERE key = ?", (span.key,))
            sentence_ids += range(*sentences)
            passage_ids += range(span.first_passage, span.stop_passage)
        connection.commit()
        return sentence_ids, passage_ids

    def add(
        self,
        splits: Iterable[SplitArticle],
        entities: Sequence[tuple[Entity, ...]],
        event_dates: Sequence[str | None] | None = None,
    ) -> list[int]:
        """Write the batch's records after those written before; returns each sentence's
        passage id.

        ``entities[i]`` are the entities of the batch's sentence ``i``, ``event_dates[i]`` its
        event date (none when not given).
        """
        connection, first = self.connection, self.sentences
        sentence_passages: list[int] = []
        for split in splits:
            _insert_article(connection, self.articles, split.article)
            base = self.sentences
            own = entities[base - first : base - first + len(split.sentences)]
            _insert_statements(connection, split, base, own)
            for passage in split.passages:
                connection.execute(
                    "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.passages,
                        self.articles,
                        passage.paragraph,
                        passage.start,
                        passage.end,
                        passage.text,
                        base + passage.first_sentence,
                        passage.sentence_count,
                    ),
                )
                for offset in range(passage.sentence_count):
                    sentence = split.sentences[passage.first_sentence + offset]
                    row = self.sentences - first
                    connection.execute(
                        "INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            self.sentences,
                            self.articles,
                            sentence.paragraph,
                            self.passages,
                            sentence.start,
                            sentence.end,
                            sentence.text,
                            event_dates[row] if event_dates else None,
                        ),
                    )
                    for entity in entities[row]:
                        connection.execute(
                            "INSERT INTO entities VALUES (?, ?, ?, ?)",
                            (self.sentences, entity.label, entity.start, entity.end),
                        )
                        self._names[(_name_key(entity.text_in(sentence.text)), entity.label)] += 1
                    sentence_passages.append(self.passages)
                    self.sentences += 1
                self.passages += 1
            self.articles += 1
        connection.commit()
        return sentence_passages

    def texts(self, rows: Sequence[int]) -> list[str]:
        """The text of the sentences with these ids, in the order asked for."""
        found: dict[int, str] = {}
        for start in range(0, len(rows), 500):  # under SQLite's bound-parameter limit
            chunk = list(rows[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, text FROM sentences WHERE id IN ({marks})"
            found.update(self.connection.execute(query, chunk).fetchall())
        return [found[row] for row in rows]

    def finish(self) -> None:
        """Index the tables, write the entity names, and close the file."""
        connection = self.connection
        for index in (_ENTITY_INDEX, *_STATEMENT_INDEXES):
            connection.execute(index.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
        # A name already known (an extended file) keeps its label; a new one is added.
        connection.executemany(
            "INSERT OR IGNORE INTO entity_names VALUES (?, ?, ?)", _commonest_labels(self._names)
        )
        connection.commit()
        self.close()

    def close(self) -> None:
        self.connection.close()


def name_key(text: str) -> str:
    """How an entity name is looked up: lower case, single spaces, no possessive."""
    return _name_key(text)


def _name_key(text: str) -> str:
    text = " ".join(text.lower().split())
    return text[:-2] if text.endswith(("'s", "’s")) else text


def _commonest_labels(names: Counter[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """Each distinct name once, with the label it was tagged with most often and its count."""
    best: dict[str, tuple[str, int]] = {}
    totals: Counter[str] = Counter()
    for (name, label), count in names.items():
        totals[name] += count
        if name not in best or count > best[name][1]:
            best[name] = (label, count)
    return [(name, label, totals[name]) for name, (label, _) in best.items() if name]


def _insert_statements(
    connection: sqlite3.Connection,
    split: SplitArticle,
    base_sentence: int,
    entities: Sequence[tuple[Entity, ...]],
) -> None:
    """The article's attributed statements (read from its sentences in order, see statements).

    ``entities[i]`` are those of the article's sentence ``i``.
    """
    sentences = [
        (sentence.text, entities[number]) for number, sentence in enumerate(split.sentences)
    ]
    connection.executemany(
        "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                base_sentence + found.sentence,
                found.speaker,
                found.key,
                found.surname,
                found.label,
                found.role,
                found.verb,
                found.start,
                found.end,
                int(found.resolved),
            )
            for found in extract_statements(sentences)
        ],
    )


def _statement_fields(row: tuple[Any, ...]) -> tuple[str, str, str, str, str, int, int, bool]:
    speaker, key, label, role, verb, start, end, resolved = row[1:9]
    return speaker, key, label, role, verb, int(start), int(end), bool(resolved)


def _like_literal(text: str) -> str:
    """``text`` in a LIKE pattern ``ESCAPE '\\'``: ``%`` and ``_`` are letters a name may hold."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _insert_article(connection: sqlite3.Connection, article_id: int, article: Article) -> None:
    connection.execute(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?)",
        (article_id, article.id, article.title, article.date, article.path, article.url),
    )


class Metadata:
    """Read-only access to a build's records, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise IndexCorruptError(f"index file {path} is missing")
        try:
            self._connection = sqlite3.connect(
                f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
            self._connection.execute("SELECT count(*) FROM sentences").fetchone()
        except sqlite3.DatabaseError as error:
            raise IndexCorruptError(f"index file {path} is unreadable ({error})") from None
        self._lock = threading.Lock()
        self._articles: dict[int, ArticleRecord] = {}
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(sentences)")}
        # An index built before event dates lacks the column: it still answers (the engine
        # updates it first), reading None for every sentence.
        self.has_event_dates = "event_date" in columns
        self._sentence_columns = "id, article, paragraph, passage, start, end, text, " + (
            "event_date" if self.has_event_dates else "NULL"
        )
        self._span: tuple[str | None, str | None] | None = None
        self.has_statements = (
            self._connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'statements'"
            ).fetchone()
            is not None
        )

    def close(self) -> None:
        self._connection.close()

    def row_counts(self) -> dict[str, int]:
        """Rows per table, keyed like the manifest's counts, to catch a swapped or edited file.

        A row's id is its position, so a table of n rows ends at id n - 1: the highest id is a
        look-up in the table's b-tree, where ``count(*)`` reads every row (seconds at 10M).
        """
        try:
            with self._lock:
                return {
                    table: self._connection.execute(
                        f"SELECT coalesce(max(id) + 1, 0) FROM {table}"
                    ).fetchone()[0]
                    for table in ("articles", "passages", "sentences")
                }
        except sqlite3.DatabaseError as error:
            raise IndexCorruptError(f"index file {self.path} is unreadable ({error})") from None

    def article(self, article_id: int) -> ArticleRecord:
        cached = self._articles.get(article_id)
        if cached is None:
            row = self._one(
                "SELECT key, title, date, path, url FROM articles WHERE id = ?", article_id
            )
            cached = self._articles[article_id] = ArticleRecord(*row)
        return cached

    def date_span(self) -> tuple[str | None, str | None]:
        """The oldest and newest article dates (ISO; None without dated articles), read once:
        "last week" in a question counts back from the newest."""
        if self._span is None:
            with self._lock:
                row = self._connection.execute(
                    "SELECT min(date), max(date) FROM articles"
                ).fetchone()
            self._span = (row[0], row[1]) if row else (None, None)
        return self._span

    def articles(self) -> list[ArticleRecord]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT key, title, date, path, url FROM articles ORDER BY id"
            ).fetchall()
        return [ArticleRecord(*row) for row in rows]

    def sentence(self, sentence_id: int) -> SentenceRecord:
        row = self._one(f"SELECT {self._sentence_columns} FROM sentences WHERE id = ?", sentence_id)
        return self._sentence(row)

    def passage(self, passage_id: int) -> PassageRecord:
        row = self._one(
            "SELECT id, article, paragraph, start, end, text, first_sentence, sentence_count "
            "FROM passages WHERE id = ?",
            passage_id,
        )
        return PassageRecord(row[0], self.article(row[1]), *row[2:])

    def passage_texts(self, first: int, stop: int) -> list[str]:
        """``title. text`` of passages ``first .. stop-1``, as BM25 indexes them ("" for a hole)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT p.id, a.title, p.text FROM passages p JOIN articles a ON a.id = p.article "
                "WHERE p.id >= ? AND p.id < ?",
                (first, stop),
            ).fetchall()
        texts = [""] * max(stop - first, 0)
        for passage_id, title, text in rows:
            texts[passage_id - first] = f"{title}. {text}"
        return texts

    def passages_with_sentences(
        self, passage_ids: list[int]
    ) -> dict[int, tuple[PassageRecord, list[SentenceRecord]]]:
        """Several passages and their sentences in two queries (one answer needs ten or more)."""
        marks = ",".join("?" * len(passage_ids))
        keys = [int(key) for key in passage_ids]
        with self._lock:
            passage_rows = self._connection.execute(
                "SELECT id, article, paragraph, start, end, text, first_sentence, sentence_count "
                f"FROM passages WHERE id IN ({marks})",
                keys,
            ).fetchall()
            # One rowid range per passage: SQLite does not turn an OR of ranges into key look-ups.
            sentence_rows = [
                sentence
                for row in passage_rows
                for sentence in self._connection.execute(
                    f"SELECT {self._sentence_columns} FROM sentences WHERE id >= ? AND id < ?",
                    (row[6], row[6] + row[7]),
                )
            ]
            entity_rows = [
                entity
                for row in passage_rows
                for entity in self._connection.execute(
                    "SELECT sentence, label, start, end FROM entities "
                    "WHERE sentence >= ? AND sentence < ?",
                    (row[6], row[6] + row[7]),
                )
            ]
        by_sentence: dict[int, list[tuple[str, int, int]]] = {}
        for sentence_id, label, start, end in entity_rows:
            by_sentence.setdefault(sentence_id, []).append((label, start, end))
        found: dict[int, tuple[PassageRecord, list[SentenceRecord]]] = {
            row[0]: (PassageRecord(row[0], self.article(row[1]), *row[2:]), [])
            for row in passage_rows
        }
        for row in sentence_rows:
            tagged = entities_from_rows(by_sentence.get(row[0], ()))
            found[row[3]][1].append(self._sentence(row, tagged))
        missing = [key for key in keys if key not in found]
        if missing:
            raise IndexCorruptError(f"index metadata has no passage {missing[0]}")
        return found

    def sentences(self, sentence_ids: Iterable[int]) -> dict[int, SentenceRecord]:
        """The sentences of ``sentence_ids`` that exist (without entities), by id, in one query."""
        keys = sorted({int(key) for key in sentence_ids if key >= 0})
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {self._sentence_columns} FROM sentences WHERE id IN ({marks})", keys
            ).fetchall()
        return {row[0]: self._sentence(row) for row in rows}

    def _sentence(self, row: Sequence[Any], entities: tuple[Entity, ...] = ()) -> SentenceRecord:
        """A sentence row (``_sentence_columns``) as a record."""
        return SentenceRecord(
            row[0], self.article(row[1]), row[2], row[3], row[4], row[5], row[6], entities, row[7]
        )

    def entities_between(self, first: int, stop: int) -> list[tuple[Entity, ...]]:
        """The entities of sentences ``first`` to ``stop - 1`` (a build reuses them)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT sentence, label, start, end FROM entities "
                "WHERE sentence >= ? AND sentence < ? ORDER BY rowid",
                (first, stop),
            ).fetchall()
        found: list[list[tuple[str, int, int]]] = [[] for _ in range(stop - first)]
        for sentence_id, label, start, end in rows:
            found[sentence_id - first].append((label, start, end))
        return [entities_from_rows(own) for own in found]

    def event_dated(self) -> list[int]:
        """The ids of the sentences with an event date, in order (for checking them by hand)."""
        if not self.has_event_dates:
            return []
        with self._lock:
            rows = self._connection.execute(
                "SELECT id FROM sentences WHERE event_date IS NOT NULL ORDER BY id"
            ).fetchall()
        return [int(row[0]) for row in rows]

    def entity_labels(self, names: Iterable[str]) -> dict[str, str]:
        """The commonest label of each of ``names`` (looked up by ``name_key``) the index knows."""
        keys = list(dict.fromkeys(name_key(name) for name in names))
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._connection.execute(
                f"SELECT name, label FROM entity_names WHERE name IN ({marks})", keys
            ).fetchall()
        return {str(name): str(label) for name, label in rows}

    def statements_by(self, name: str) -> list[StatementRecord]:
        """The statements of the speaker ``name``, newest article first (undated last).

        Alias-aware: "Bali", "Mr Bali" and "Mustafa Bali" find one another, since the build
        stored each speaker under the fullest name the article gave; a surname alone finds
        every speaker of that surname. An index built without statements finds none.

        Any text is safe: undecodable bytes (lone surrogates) are dropped, ``%`` and ``_`` are
        matched as themselves, and a name over ``MAX_NAME_CHARS`` finds none (SQLite refuses a
        LIKE pattern of some 50,000 characters, and nobody's name is that long).
        """
        key = speaker_key(clean_name(name.encode("utf-8", "ignore").decode("utf-8")))
        if not key or len(key) > MAX_NAME_CHARS or not self.has_statements:
            return []
        words = key.split()
        if len(words) == 1:
            where, values = "st.surname = ? OR st.key = ?", [key, key]
        else:  # the full name, a longer one ending with it, or the surname met alone
            where = (
                "st.key = ? OR st.key LIKE ? ESCAPE '\\' "
                "OR (st.surname = ? AND st.key = st.surname)"
            )
            values = [key, "% " + _like_literal(key), words[-1]]
        return self._statements(f"({where})", values)

    def statements_in(self, sentence_ids: Iterable[int]) -> dict[int, StatementRecord]:
        """The stored statement of each of ``sentence_ids`` that is one, by sentence id."""
        keys = sorted({int(key) for key in sentence_ids})
        if not keys or not self.has_statements:
            return {}
        found = self._statements(f"st.sentence IN ({','.join('?' * len(keys))})", keys)
        return {record.sentence.id: record for record in found}

    def statement_count(self) -> int:
        if not self.has_statements:
            return 0
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM statements").fetchone()[0])

    def all_statements(self) -> list[StatementRecord]:
        """Every stored statement (a benchmark samples them), newest article first."""
        return self._statements("1 = 1", []) if self.has_statements else []

    def _statements(self, where: str, values: list[Any]) -> list[StatementRecord]:
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_STATEMENT_COLUMNS}, a.date FROM statements st "
                "JOIN sentences s ON s.id = st.sentence JOIN articles a ON a.id = s.article "
                f"WHERE {where} ORDER BY a.date IS NULL, a.date DESC, st.sentence",
                values,
            ).fetchall()
        sentences = self.sentences(row[0] for row in rows)
        return [
            StatementRecord(
                sentences[row[0]],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8] == 1,
            )
            for row in rows
            if row[0] in sentences
        ]

    def _one(self, query: str, key: int) -> tuple[Any, ...]:
        with self._lock:
            row = self._connection.execute(query, (int(key),)).fetchone()
        if row is None:
            raise IndexCorruptError(f"index metadata has no row {key}")
        return tuple(row)
