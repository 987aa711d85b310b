"""Releases of an archive: full (private use) or public (no article text, no raw pages).

A release is built under a temporary name beside its target and moved into place only when
complete (clippings/atomic.py). A public release is built by copying the archive's tables with
the texts left out, never by copying everything and deleting afterwards: at no moment does any
file it writes hold a text, so a release killed outright leaves none behind either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from clippings import __version__
from clippings.atomic import TargetExists, partial_file, publish, remove_stale_partials
from pipelines.core.relevance import TopicMatcher
from pipelines.core.topic import parse_topic
from pipelines.store.archive import Archive

# Keyword-in-context passages, only on request (--snippets N): a match and at most this many
# words either side, and all of an article's passages together at most this share of its words
# and of its characters, so that no number of passages rebuilds a short article.
SNIPPET_CONTEXT_WORDS = 12
SNIPPET_SHARE = 0.10

# The tables a public release copies. Any other table keeps its schema but no rows: raw pages
# and the dictionaries trained on them, takedowns (the list stays private), and what is derived
# from the texts word by word (MinHash sketches of 4-word shingles, hashed text lines). A table
# added to the schema later stays empty in public releases until it is listed here.
PUBLIC_TABLES = (
    "outlets",
    "people",
    "crawl_runs",
    "captures",
    "articles",
    "article_versions",
    "copies",
    "mentions",
    "keyword_matches",
    "rejects",
    "fetch_failures",
    "topics",
    "import_files",
)
# Columns of those tables a public release leaves empty: the texts, and the publishers'
# descriptions (often the article's first sentence).
PUBLIC_BLANKED_COLUMNS = {"articles": {"text": "''", "description": "NULL"}, "article_versions": {"text": "''"}}
RELEASE_TABLES = """
CREATE TABLE IF NOT EXISTS releases (
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    clippings_version TEXT NOT NULL,
    articles INTEGER NOT NULL,
    source_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS release_snippets (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    term TEXT NOT NULL,
    snippet TEXT NOT NULL
);
"""


class ReleaseError(Exception):
    """The release cannot be written: the message says why."""


def write_release(db: Path, out: Path, public: bool, snippets: int = 0) -> dict[str, Any]:
    """Write a release of the archive `db` to `out`, which must not exist; returns its `releases` row."""
    remove_stale_partials(out)
    _refuse_existing(out)
    try:
        with built_release(db, out, public, snippets) as (partial, summary):
            publish(partial, out)
    except TargetExists as error:
        raise ReleaseError(f"{error}; give a new path") from None
    return summary


@contextmanager
def built_release(db: Path, beside: Path, public: bool, snippets: int = 0) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A complete release file under a temporary name beside `beside`; removed on the way out
    unless it was published."""
    if snippets and not public:
        raise ReleaseError("--snippets is for public releases: a full release holds the whole texts")
    source = _source_uri(db)
    try:
        with partial_file(beside) as partial:
            if public:
                _copy_public(source, partial, snippets)
            else:
                _copy_full(source, partial)
            summary = _finish(partial, "public" if public else "full", _sha256(db))
            yield partial, summary
    except (sqlite3.Error, OSError) as error:
        raise ReleaseError(f"cannot write the release beside {beside} ({_reason(error)}); nothing was left there") from None


def public_tables() -> set[str]:
    """The tables whose rows a public release holds (release_snippets only with --snippets)."""
    return {*PUBLIC_TABLES, "releases", "release_snippets", "rehydrations"}


def _refuse_existing(out: Path) -> None:
    if out.exists():
        raise ReleaseError(f"{out} exists already; give a new path")
    if not out.parent.is_dir():
        raise ReleaseError(f"cannot write {out}: the folder {out.parent} does not exist")


def _source_uri(db: Path) -> str:
    """The archive's URI for reading: it is there, is a clippings archive at this version's
    schema, and is read without ever being changed (immutable on read-only storage)."""
    archive = Archive(db, read_only=True)
    archive.close()
    return f"{db.resolve().as_uri()}?mode=ro" + ("&immutable=1" if archive.immutable else "")


def _copy_full(source_uri: str, partial: Path) -> None:
    """Everything, as one consistent snapshot (VACUUM INTO; safe while a crawl writes)."""
    source = sqlite3.connect(source_uri, uri=True)
    try:
        source.execute("VACUUM INTO ?", (str(partial),))
    finally:
        source.close()


def _copy_public(source_uri: str, partial: Path, snippets: int) -> None:
    """The archive's schema, and the rows of the public tables without their texts, in one
    transaction over one snapshot of the archive."""
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS source", (source_uri,))
        conn.execute("BEGIN")
        schema = _schema(conn)
        for sql in schema["table"]:
            conn.execute(sql)
        for table in PUBLIC_TABLES:
            _copy_table(conn, table)
        for sql in schema["index"] + schema["trigger"]:
            conn.execute(sql)
        _copy_header(conn)
        for sql in RELEASE_TABLES.split(";"):
            conn.execute(sql)  # not executescript(), which would commit the transaction
        if snippets:
            conn.executemany(
                "INSERT INTO release_snippets (article_id, term, snippet) VALUES (?, ?, ?)", _keyword_snippets(conn, snippets)
            )
        # Built from the titles alone, the only text left in the articles.
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _schema(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The archive's CREATE statements by kind, in the order SQLite recorded them; no shadow
    tables (a virtual table makes its own) and no internal ones."""
    shadow = {row[1] for row in conn.execute("PRAGMA source.table_list") if row[2] == "shadow"}
    schema: dict[str, list[str]] = {"table": [], "index": [], "trigger": [], "view": []}
    for kind, name, sql in conn.execute(
        "SELECT type, name, sql FROM source.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY rowid"
    ):
        if name not in shadow:
            schema[kind].append(sql)
    schema["table"] += schema.pop("view")
    return schema


def _copy_table(conn: sqlite3.Connection, table: str) -> None:
    blanked = PUBLIC_BLANKED_COLUMNS.get(table, {})
    columns = [row[1] for row in conn.execute(f"PRAGMA source.table_info({_quoted(table)})")]
    if not columns:
        return  # an archive from before the migration that made it
    names = ", ".join(_quoted(c) for c in columns)
    values = ", ".join(blanked.get(c, _quoted(c)) for c in columns)
    conn.execute(f"INSERT INTO main.{_quoted(table)} ({names}) SELECT {values} FROM source.{_quoted(table)}")


def _copy_header(conn: sqlite3.Connection) -> None:
    """The marks that make the release a clippings archive at this schema version."""
    application_id = int(conn.execute("PRAGMA source.application_id").fetchone()[0])
    user_version = int(conn.execute("PRAGMA source.user_version").fetchone()[0])
    conn.execute(f"PRAGMA main.application_id = {application_id}")
    conn.execute(f"PRAGMA main.user_version = {user_version}")


def _keyword_snippets(conn: sqlite3.Connection, limit: int) -> Iterator[tuple[int, str, str]]:
    """Up to `limit` short keyword-in-context passages per article, read from the archive."""
    matchers = [TopicMatcher(parse_topic(yaml.safe_load(y))) for (y,) in conn.execute("SELECT yaml FROM source.topics")]
    for article_id, text in conn.execute("SELECT id, text FROM source.articles ORDER BY id"):
        for term, passage in bounded_passages(matchers, text, limit):
            yield article_id, term, passage


def bounded_passages(matchers: list[TopicMatcher], text: str, limit: int) -> list[tuple[str, str]]:
    """At most `limit` (term, passage) pairs: a match with up to SNIPPET_CONTEXT_WORDS words either
    side, passages never overlapping or touching (so none join into a longer one), all of them
    together at most SNIPPET_SHARE of the text's words and of its characters."""
    tokens = text.split()
    words_left = math.floor(SNIPPET_SHARE * len(tokens))
    chars_left = math.floor(SNIPPET_SHARE * len(" ".join(tokens)))
    taken: list[tuple[int, int]] = []
    found = []
    spans = sorted({span for matcher in matchers for span in matcher.term_spans(tokens)})
    for first, last, term in spans:
        if len(found) == limit:
            break
        span = _widest_fit(tokens, first, last, taken, words_left, chars_left)
        if span is None:
            continue
        passage = " ".join(tokens[span[0] : span[1] + 1])
        words_left -= span[1] - span[0] + 1
        chars_left -= len(passage)
        taken.append(span)
        found.append((term, passage))
    return found


def _widest_fit(tokens: list[str], first: int, last: int, taken: list[tuple[int, int]], words: int, chars: int):
    """The widest (start, end) around the match that stays clear of the passages taken (a word
    between) and within the budget; None when not even the match fits."""
    low = max([end + 2 for start, end in taken if end < first] + [0])
    high = min([start - 2 for start, end in taken if start > last] + [len(tokens) - 1])
    if any(start <= last and end >= first for start, end in taken) or first < low or last > high:
        return None
    for context in range(SNIPPET_CONTEXT_WORDS, -1, -1):
        start, end = max(low, first - context), min(high, last + context)
        if end - start + 1 <= words and len(" ".join(tokens[start : end + 1])) <= chars:
            return start, end
    return None


def _finish(partial: Path, kind: str, source_sha256: str) -> dict[str, Any]:
    """Record which release the file is."""
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        if kind == "full":
            conn.executescript(RELEASE_TABLES)
        conn.execute("BEGIN")
        summary = _record_release(conn, kind, source_sha256)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return summary


def _record_release(conn: sqlite3.Connection, kind: str, source_sha256: str) -> dict[str, Any]:
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    row = {
        "kind": kind,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "clippings_version": __version__,
        "articles": articles,
        "source_sha256": source_sha256,
    }
    conn.execute("INSERT INTO releases VALUES (:kind, :created_at, :clippings_version, :articles, :source_sha256)", row)
    return row


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    if "full" in text or "I/O" in text or "too large" in text.lower():
        return f"{text}: is the disk full?"
    return text


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
