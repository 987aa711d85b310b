"""Releases of an archive: full (private use) or public (no full text, no raw pages)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from clippings import __version__
from clippings.topic import parse_topic
from pipelines.archive import Archive
from pipelines.relevance import TopicMatcher

SNIPPET_WORDS = 12  # words kept on each side of a match: a quotation, not the article
SNIPPETS_PER_ARTICLE = 3
RELEASE_TABLES = """
CREATE TABLE releases (
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    clippings_version TEXT NOT NULL,
    articles INTEGER NOT NULL,
    source_sha256 TEXT NOT NULL
);
CREATE TABLE release_snippets (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    term TEXT NOT NULL,
    snippet TEXT NOT NULL
);
"""


class ReleaseError(Exception):
    """The release cannot be written: the message says why."""


def write_release(db: Path, out: Path, public: bool) -> dict[str, Any]:
    """Copy the archive to `out` (a consistent snapshot); for a public release, strip it."""
    if out.exists():
        raise ReleaseError(f"{out} exists already; give a new --out path")
    source = Archive(db, read_only=True)
    try:
        source.conn.execute("VACUUM INTO ?", (str(out),))
    finally:
        source.close()
    conn = sqlite3.connect(out, isolation_level=None)
    try:
        conn.executescript(RELEASE_TABLES)
        if public:
            _strip_for_public(conn)
        summary = _record_release(conn, "public" if public else "full", _sha256(db))
        conn.execute("VACUUM")
    except BaseException:
        conn.close()
        out.unlink(missing_ok=True)
        raise
    conn.close()
    return summary


def _strip_for_public(conn: sqlite3.Connection) -> None:
    """No article text, no raw page, and no freed page that still holds them."""
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO release_snippets (article_id, term, snippet) VALUES (?, ?, ?)",
        list(_keyword_snippets(conn)),
    )
    conn.execute("UPDATE articles SET text = ''")
    conn.execute("UPDATE article_versions SET text = ''")  # each version is a full text too
    # The FTS index is text too (its terms rebuild the article): rebuild it from titles only.
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    conn.execute("DELETE FROM capture_bodies")
    # A compression dictionary is made of bytes of the pages it was trained on.
    conn.execute("DELETE FROM compression_dictionaries")
    # A takedown's pattern can itself point at the page and the person who asked: its records
    # are already gone from the archive, and the list stays private.
    conn.execute("DELETE FROM takedowns")
    conn.execute("COMMIT")


def _keyword_snippets(conn: sqlite3.Connection):
    """Short keyword-in-context passages around the topic's keywords and people."""
    matchers = [TopicMatcher(parse_topic(yaml.safe_load(row[0]))) for row in conn.execute("SELECT yaml FROM topics")]
    for article_id, text in conn.execute("SELECT id, text FROM articles").fetchall():
        found = []
        for matcher in matchers:
            found += matcher.passages(text, SNIPPET_WORDS)
        for term, snippet in found[:SNIPPETS_PER_ARTICLE]:
            yield article_id, term, snippet


def _record_release(conn: sqlite3.Connection, kind: str, source_sha256: str) -> dict[str, Any]:
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    row = {"kind": kind, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "clippings_version": __version__, "articles": articles, "source_sha256": source_sha256}
    conn.execute("INSERT INTO releases VALUES (:kind, :created_at, :clippings_version, :articles, :source_sha256)", row)
    return row


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
