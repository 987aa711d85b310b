"""The SQLite archive: opening (with migrations), and every write, each one transaction."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from pipelines.core.extraction import line_fingerprint, may_be_boilerplate
from pipelines.core.items import FetchedPage, FetchFailure
from pipelines.core.project import __version__
from pipelines.core.stories import similarity, sketch
from pipelines.core.takedowns import Takedowns
from pipelines.core.topic import Topic
from pipelines.store.compression import PLAIN, Codecs, DictionaryPolicy, UnreadableBody, dictionary_label, train
from pipelines.store.schema import SCHEMA_VERSION, ForeignDatabase, migrate, schema_version


class ArchiveError(Exception):
    """The archive file cannot be opened or used: the message says why."""


WRITES_HERE = "this command writes to the archive; make it writable (chmod u+w) or work on a copy"


def write_refusal(path: Path) -> str | None:
    """Why the archive at `path` cannot be written, or None. A file or directory without any
    write permission counts as read-only even for root, whom permissions do not stop: its
    owner said it must not change. The directory matters because SQLite writes its journal
    (and its WAL) beside the file."""
    directory = path.resolve().parent
    if not directory.is_dir():
        return f"{path}: there is no directory {directory}; create it first"
    if path.exists() and not _writable(path):
        return f"{path} is read-only: {WRITES_HERE}"
    if not _writable(directory):
        return f"{path}: its directory {directory} is read-only, and SQLite writes its journal beside the archive; work on a copy elsewhere"
    return None


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def open_read_only(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection that cannot write the file (SQLite's mode=ro), and whether it had to be immutable.

    A WAL archive needs its -shm file, which read-only storage cannot give it: there it is opened
    immutable (SQLite then reads the main file alone), unless its -wal file holds changes that
    were never written back to the main file, which an immutable connection would not see."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA application_id").fetchone()
        return conn, False
    except sqlite3.OperationalError as error:
        conn.close()
        if error.sqlite_errorcode != sqlite3.SQLITE_CANTOPEN or not path.is_file():
            raise
    wal = path.with_name(f"{path.name}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise ArchiveError(
            f"{path} is on read-only storage with changes still in {wal.name}, which SQLite cannot read there; "
            "copy both files to writable storage, or open the archive once where it was written"
        )
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None), True


def older_schema(path: Path, version: int) -> str:
    if version == 0:
        return f"{path} is empty, not an archive yet: build one with `clippings crawl` or `clippings demo`"
    return (
        f"{path} was written by an older clippings (archive schema {version}; this one reads {SCHEMA_VERSION}): "
        f"bring it up to date with `clippings upgrade --db {path}` (on a copy, for a published release)"
    )


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Archive:
    """One connection to one archive file. Readers (Datasette) may share the file: WAL mode.

    `dictionaries` says when an outlet's bodies get a compression dictionary (pipelines/store/compression.py).
    `read_only`: for commands that only read (coverage, releases, takedown lists); the file's
    bytes never change, and read-only storage is fine (open_read_only). Otherwise the file must
    be writable: it is brought up to this clippings' schema and switched to WAL mode.
    """

    def __init__(
        self, path: str | Path, create: bool = True, dictionaries: DictionaryPolicy = DictionaryPolicy(), read_only: bool = False
    ):
        self.path = Path(path)
        if (read_only or not create) and not self.path.exists():
            raise ArchiveError(f"no archive at {self.path}: build one with `clippings crawl` or `clippings demo`")
        self.immutable = False  # opened immutable: read-only storage (open_read_only)
        conn = self._open_read_only() if read_only else self._open_writable()
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.dictionaries = dictionaries
        self.codecs = Codecs(self._dictionary_bytes)
        self._untrainable: dict[str, int] = {}  # outlet -> its body count when training found too little

    def _open_writable(self) -> sqlite3.Connection:
        if refusal := write_refusal(self.path):
            raise ArchiveError(refusal)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
            conn.execute("PRAGMA journal_mode = WAL")
        except ForeignDatabase as error:
            raise ArchiveError(f"{self.path}: {error}") from error
        except sqlite3.DatabaseError as error:
            if (
                getattr(error, "sqlite_errorcode", None) or 0
            ) & 0xFF == sqlite3.SQLITE_READONLY:  # e.g. storage made read-only meanwhile
                raise ArchiveError(f"{self.path} is read-only: {WRITES_HERE}") from None
            raise ArchiveError(f"{self.path} is not a readable SQLite archive ({error})") from error
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        try:
            conn, self.immutable = open_read_only(self.path)
        except sqlite3.DatabaseError as error:
            raise ArchiveError(f"{self.path} is not a readable SQLite archive ({error})") from error
        try:
            version = schema_version(conn)
        except ForeignDatabase as error:
            conn.close()
            raise ArchiveError(f"{self.path}: {error}") from error
        except sqlite3.DatabaseError as error:
            conn.close()
            raise ArchiveError(f"{self.path} is not a readable SQLite archive ({error})") from error
        if version < SCHEMA_VERSION:
            conn.close()
            raise ArchiveError(older_schema(self.path, version))
        return conn

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a crash inside leaves the archive as it was before.

        BEGIN IMMEDIATE takes the write lock up front, so a reader upgrading to a
        writer never deadlocks; nested blocks become savepoints.
        """
        if self.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        # BEGIN and COMMIT inside the try: a Ctrl-C that arrives as either returns must not leave
        # the transaction open, to be committed by whatever the connection writes next.
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def hold(self) -> None:
        """Open a transaction that the writes after it join (each transaction() block a
        savepoint in it) until release(): many pages to a commit (crawlers/writer.py)."""
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> bool:
        """Commit what hold() opened; False when it is gone (SQLite rolls a transaction back
        on some errors, a full disk among them) and its writes with it."""
        if not self.conn.in_transaction:
            self._forget_uncommitted()
            return False
        self.conn.execute("COMMIT")
        return True

    def discard(self) -> None:
        """Roll back what hold() opened."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._forget_uncommitted()

    def _forget_uncommitted(self) -> None:
        """Caches that may hold what a rolled-back transaction wrote: a dictionary id can be
        given again to other bytes."""
        self.codecs = Codecs(self._dictionary_bytes)
        self._untrainable.clear()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the archive (a read transaction: no lock taken)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def row(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        cursor = self.conn.execute(sql, params)
        found = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], found)) if found else None

    def count(self, table: str) -> int:
        return self.db[table].count

    # --- topic and runs -------------------------------------------------

    def sync_topic(self, topic: Topic) -> None:
        """The topic file itself, and its outlets and people (upserted, never deleted)."""
        with self.transaction():
            self.db["topics"].insert(
                {
                    "sha256": topic.sha256,
                    "name": topic.name,
                    "title": topic.title,
                    "window_start": topic.start.isoformat(),
                    "window_end": topic.end.isoformat(),
                    "yaml": topic.text,
                    "first_used_at": utc_now(),
                },
                ignore=True,
            )
            self.db["outlets"].upsert_all(
                [
                    {
                        "id": o.id,
                        "name": o.name,
                        "country": o.country,
                        "language": o.language,
                        "domains": json.dumps(list(o.domains)),
                        "homepage": o.homepage,
                        "timezone": o.timezone,
                    }
                    for o in topic.outlets
                ],
                pk="id",
            )
            self.db["people"].upsert_all(
                [{"id": p.id, "name": p.name, "role": p.role, "aliases": json.dumps(list(p.aliases))} for p in topic.people],
                pk="id",
            )

    def start_run(
        self, run_id: str, spider: str, topic: Topic, user_agent: str, robots_obey: bool, settings: dict[str, Any] | None = None
    ) -> None:
        """A resumed run (crawlers/jobstate.py) keeps its row and its start time. `settings`:
        the settings the run applies, as recorded (crawlers.addons.recorded_settings)."""
        with self.transaction():
            self.db["crawl_runs"].insert(
                {
                    "id": run_id,
                    "spider": spider,
                    "topic": topic.name,
                    "topic_sha256": topic.sha256,
                    "started_at": utc_now(),
                    "user_agent": user_agent,
                    "robots_obey": int(robots_obey),
                    "clippings_version": __version__,
                    "settings": json.dumps(settings, sort_keys=True) if settings is not None else None,
                },
                ignore=True,
            )

    def add_run_counts(self, run_id: str, counts: dict[str, int]) -> None:
        """Add to the run's counts (RUN_COUNTS), in the caller's transaction: a crawl adds them
        with the writes they count (crawlers/writer.py)."""
        self.conn.execute(ADD_RUN_COUNTS, {**dict.fromkeys(RUN_COUNTS, 0), **counts, "run_id": run_id})

    def finish_run(self, run_id: str, reason: str, counts: dict[str, int]) -> None:
        with self.transaction():
            self.db["crawl_runs"].update(run_id, {"finished_at": utc_now(), "finish_reason": reason, **counts})

    # --- captures -------------------------------------------------------

    def add_capture(self, page: FetchedPage, content_sha256: str, train_dictionaries: bool = True) -> tuple[int, bool]:
        """Store the raw page unless this URL gave these exact bytes from this source before; (id, is_new).

        A redirect is its own capture (requested URL, final URL); its body is shared with
        every other capture of the same bytes. A new body is compressed with its outlet's
        dictionary; an outlet without one gets it once it has enough bodies to train on (here,
        unless `train_dictionaries` is False: the crawl trains off its event loop, needs_dictionary()).
        """
        existing = self.row(
            "SELECT id FROM captures WHERE url = ? AND content_sha256 = ? AND source = ?", (page.url, content_sha256, page.source)
        )
        if existing:
            return existing["id"], False
        with self.transaction():
            new_body = self.row("SELECT 1 AS known FROM capture_bodies WHERE content_sha256 = ?", (content_sha256,)) is None
            dictionary_id = self.dictionary_for(page.outlet_id) if new_body else None
            if new_body:
                compression, body = self.codecs.compress(page.body, dictionary_id)
                self.db["capture_bodies"].insert(
                    {"content_sha256": content_sha256, "size": len(page.body), "compression": compression, "body": body}
                )
            table = self.db["captures"].insert(
                {
                    "url": page.url,
                    "final_url": page.final_url,
                    "status": page.status,
                    "headers": json.dumps(page.headers),
                    "content_type": page.header("content-type"),
                    "fetched_at": page.fetched_at,
                    "content_sha256": content_sha256,
                    "source": page.source,
                    "archived_at": page.archived_at,
                    "spider": page.spider,
                    "crawl_run_id": page.crawl_run_id,
                    "outlet_id": page.outlet_id,
                    "record_file": page.record_file,
                    "record_offset": page.record_offset,
                    "record_length": page.record_length,
                }
            )
        if train_dictionaries and new_body and dictionary_id is None and self._ready_to_train(page.outlet_id):
            self.train_dictionary(page.outlet_id)
        return table.last_pk, True

    def capture_body(self, capture_id: int) -> bytes:
        """The raw bytes of a capture, decompressed."""
        with self.snapshot():  # the body and its dictionary as one state: a takedown may retrain between two reads
            row = self.row(
                "SELECT b.body, b.compression FROM captures c JOIN capture_bodies b USING (content_sha256) WHERE c.id = ?",
                (capture_id,),
            )
            if row is None:
                raise ArchiveError(f"no capture {capture_id}")
            try:
                return self.codecs.decompress(row["body"], row["compression"])
            except UnreadableBody as error:
                raise ArchiveError(f"capture {capture_id}: {error}") from None

    # --- compression dictionaries ----------------------------------------

    def _dictionary_bytes(self, dictionary_id: int) -> bytes:
        row = self.row("SELECT dictionary FROM compression_dictionaries WHERE id = ?", (dictionary_id,))
        if row is None:
            raise UnreadableBody(f"compression dictionary {dictionary_id} is missing")
        return row["dictionary"]

    def dictionary_for(self, outlet_id: str | None) -> int | None:
        """The outlet's current compression dictionary (its latest), if it has one."""
        if outlet_id is None:
            return None
        return self.row("SELECT max(id) AS id FROM compression_dictionaries WHERE outlet_id = ?", (outlet_id,))["id"]

    def _outlet_bodies(self, outlet_id: str, limit: int) -> int:
        return self.row(
            "SELECT count(*) AS n FROM (SELECT DISTINCT content_sha256 FROM captures WHERE outlet_id = ? LIMIT ?)",
            (outlet_id, limit),
        )["n"]

    def _ready_to_train(self, outlet_id: str | None) -> bool:
        """The outlet has enough bodies, and more than twice as many as when training last found too little."""
        samples = self.dictionaries.samples
        if outlet_id is None or samples <= 0:
            return False
        needed = max(samples, 2 * self._untrainable.get(outlet_id, 0))
        return self._outlet_bodies(outlet_id, needed) >= needed

    def _samples(self, outlet_id: str, count: int) -> list[bytes]:
        """The outlet's latest `count` bodies, decompressed: its current templates."""
        rows = self.conn.execute(
            "SELECT b.body, b.compression FROM capture_bodies b JOIN "
            "(SELECT content_sha256, max(id) AS latest FROM captures WHERE outlet_id = ? GROUP BY content_sha256 "
            " ORDER BY latest DESC LIMIT ?) USING (content_sha256)",
            (outlet_id, count),
        ).fetchall()
        return [self.codecs.decompress(body, compression) for body, compression in rows]

    def needs_dictionary(self, outlet_id: str | None) -> bool:
        """The outlet has no dictionary and enough bodies to train one."""
        return outlet_id is not None and self.dictionary_for(outlet_id) is None and self._ready_to_train(outlet_id)

    def train_dictionary(self, outlet_id: str) -> int | None:
        """Train the outlet's dictionary unless it has one; its id, or None when there was too little
        to learn from."""
        samples = self.dictionary_samples(outlet_id)
        return self.add_dictionary(outlet_id, len(samples), train(samples, self.dictionaries.size))

    def dictionary_samples(self, outlet_id: str) -> list[bytes]:
        """The bodies an outlet's dictionary is trained on (pipelines.store.compression.train)."""
        with self.snapshot():
            return self._samples(outlet_id, self.dictionaries.samples)

    def add_dictionary(self, outlet_id: str, samples: int, dictionary: bytes | None) -> int | None:
        """Keep a dictionary trained on `samples` bodies (None: too little to learn from); its id.
        Trained outside the write lock: another writer may have trained one meanwhile, which stands."""
        if dictionary is None:
            self._untrainable[outlet_id] = samples
            return None
        with self.transaction():
            if (known := self.dictionary_for(outlet_id)) is not None:
                return known
            return self._store_dictionary(outlet_id, samples, dictionary)

    def _store_dictionary(self, outlet_id: str, samples: int, dictionary: bytes) -> int:
        return (
            self.db["compression_dictionaries"]
            .insert(
                {
                    "outlet_id": outlet_id,
                    "trained_at": utc_now(),
                    "samples": samples,
                    "size": len(dictionary),
                    "dictionary": dictionary,
                }
            )
            .last_pk
        )

    def recompress_batch(self, after: str, limit: int) -> tuple[str | None, int, int]:
        """Recompress, in one transaction, the next `limit` plain bodies past `after` (by SHA-256)
        with their outlet's dictionary, where that makes them smaller. (The last SHA-256 looked
        at, or None at the end; bodies looked at; bodies recompressed.)"""
        with self.transaction():
            rows = self.conn.execute(
                "SELECT b.content_sha256, b.body, (SELECT max(d.id) FROM captures c JOIN compression_dictionaries d "
                "ON d.outlet_id = c.outlet_id WHERE c.content_sha256 = b.content_sha256) "
                "FROM capture_bodies b WHERE b.compression = ? AND b.content_sha256 > ? ORDER BY b.content_sha256 LIMIT ?",
                (PLAIN, after, limit),
            ).fetchall()
            recompressed = sum(
                self._recompress(content_sha256, body, PLAIN, dictionary_id) > 0
                for content_sha256, body, dictionary_id in rows
                if dictionary_id is not None
            )
        return (rows[-1][0] if len(rows) == limit else None), len(rows), recompressed

    def _recompress(
        self, content_sha256: str, body: bytes, compression: str, dictionary_id: int | None, only_if_smaller: bool = True
    ) -> int:
        """Write the body again with the dictionary (None: plain); the bytes saved (0: left as it was)."""
        new_compression, new_body = self.codecs.compress(self.codecs.decompress(body, compression), dictionary_id)
        if only_if_smaller and len(new_body) >= len(body):
            return 0
        self.conn.execute(
            "UPDATE capture_bodies SET compression = ?, body = ? WHERE content_sha256 = ?",
            (new_compression, new_body, content_sha256),
        )
        return len(body) - len(new_body)

    def _retrain(self, outlet_id: str) -> int:
        """Replace the outlet's dictionaries by one trained on the bodies it has now (or none, if
        too few remain), inside the caller's transaction: every body they compressed is written
        again with the new one, then they are deleted (zeroed, under secure_delete). Returns how
        many were deleted. A takedown needs it: a dictionary holds bytes of the pages it learnt from.
        The new one needs as many samples as the old ones had (the setting they were trained under)."""
        old = dict(self.conn.execute("SELECT id, samples FROM compression_dictionaries WHERE outlet_id = ?", (outlet_id,)))
        needed = max(old.values(), default=0)
        samples = self._samples(outlet_id, needed) if needed > 0 else []
        dictionary = train(samples, self.dictionaries.size) if samples and len(samples) >= needed else None
        new_id = self._store_dictionary(outlet_id, len(samples), dictionary) if dictionary else None
        for dictionary_id in old:
            label = dictionary_label(dictionary_id)
            rows = self.conn.execute("SELECT content_sha256, body FROM capture_bodies WHERE compression = ?", (label,))
            for content_sha256, body in rows.fetchall():
                self._recompress(content_sha256, body, label, new_id, only_if_smaller=False)
            self.conn.execute("DELETE FROM compression_dictionaries WHERE id = ?", (dictionary_id,))
            self.codecs.forget(dictionary_id)
        return len(old)

    # --- articles and copies -------------------------------------------

    def article_by_url(self, url: str) -> dict[str, Any] | None:
        return self.row("SELECT id, capture_id, text_sha256 FROM articles WHERE rtrim(url, '/') = rtrim(?, '/')", (url,))

    def article_by_text(self, text_sha256: str) -> dict[str, Any] | None:
        return self.row("SELECT id, url, published_day FROM articles WHERE text_sha256 = ?", (text_sha256,))

    def copy_by_url(self, url: str) -> dict[str, Any] | None:
        return self.row("SELECT id, article_id FROM copies WHERE rtrim(url, '/') = rtrim(?, '/')", (url,))

    def add_article(self, page: FetchedPage, topic: Topic, story_similarity: float) -> int:
        """Article, its mentions and keyword matches and its story (the most similar archived
        text at `story_similarity` or more), in one transaction; returns its id."""
        with self.transaction():
            table = self.db["articles"].insert(_article_row(page, topic))
            self._replace_matches(table.last_pk, page)
            self._join_story(table.last_pk, sketch(page.article.text), story_similarity)
            self._count_lines(page.outlet_id, page.article.text)
        return table.last_pk

    def _count_lines(self, outlet_id: str | None, text: str) -> None:
        if outlet_id is None:
            return
        self.conn.executemany(
            "INSERT INTO outlet_lines (outlet_id, line_fingerprint, articles) VALUES (?, ?, 1) "
            "ON CONFLICT (outlet_id, line_fingerprint) DO UPDATE SET articles = articles + 1",
            [(outlet_id, fingerprint) for fingerprint in sorted(_line_fingerprints(text))],
        )

    def _uncount_lines(self, outlet_id: str | None, text: str) -> None:
        """The text is no longer an archived article's: its lines count one article less."""
        if outlet_id is None:
            return
        pairs = [(outlet_id, fingerprint) for fingerprint in sorted(_line_fingerprints(text))]
        self.conn.executemany(
            "UPDATE outlet_lines SET articles = articles - 1 WHERE outlet_id = ? AND line_fingerprint = ?", pairs
        )
        self.conn.execute("DELETE FROM outlet_lines WHERE outlet_id = ? AND articles <= 0", (outlet_id,))

    # --- re-extraction (pipelines/jobs/reextraction.py) ------------------------

    def update_article(self, article_id: int, page: FetchedPage, topic: Topic, story_similarity: float) -> None:
        """The article as extracted again from its own capture: text, metadata, dates and
        relevance replaced, with its mentions, keyword matches, search entry (by trigger),
        line counts and story; its id, URL, capture, source and provenance kept. One
        transaction; a text another article already has raises sqlite3.IntegrityError."""
        with self.transaction():
            old = self.row("SELECT text, outlet_id FROM articles WHERE id = ?", (article_id,))
            row = {k: v for k, v in _article_row(page, topic).items() if k in REEXTRACTED_COLUMNS}
            self.db["articles"].update(article_id, row)
            self._replace_matches(article_id, page)
            if old["text"] != page.article.text:
                self._uncount_lines(old["outlet_id"], old["text"])
                self._count_lines(old["outlet_id"], page.article.text)
                self._leave_story(article_id)
                self.conn.execute("DELETE FROM text_sketches WHERE article_id = ?", (article_id,))
                self._join_story(article_id, sketch(page.article.text), story_similarity)
            else:
                self._lead_story(self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))["story_id"])

    def withdraw_article(self, article_id: int) -> None:
        """Remove an article its capture no longer yields (not an article, off-topic, out of the
        window): its copies, mentions, matches, sketch (by cascade), search entry (by trigger)
        and line counts go with it; a story it led is led by its next article. One transaction."""
        with self.transaction():
            old = self.row("SELECT text, outlet_id FROM articles WHERE id = ?", (article_id,))
            self._leave_story(article_id)
            self.conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self._uncount_lines(old["outlet_id"], old["text"])

    def _leave_story(self, article_id: int) -> None:
        """The article stands alone; a story it led is led by its earliest-published other
        article (each undated one alone leads itself, as after a takedown)."""
        self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (article_id, article_id))
        members = self.conn.execute(
            "SELECT id FROM articles WHERE story_id = ? AND id != ? AND published_day IS NOT NULL "
            "ORDER BY published_day, id LIMIT 1",
            (article_id, article_id),
        ).fetchone()
        if members:
            self.conn.execute(
                "UPDATE articles SET story_id = ? WHERE story_id = ? AND id != ?", (members[0], article_id, article_id)
            )
        else:
            self.conn.execute("UPDATE articles SET story_id = id WHERE story_id = ? AND id != ?", (article_id, article_id))

    def update_copy(self, copy_id: int, page: FetchedPage) -> None:
        with self.transaction():
            article = page.article
            self.db["copies"].update(
                copy_id,
                {
                    "title": article.title,
                    "published_at": article.published.value,
                    "published_day": article.published.day,
                    "published_utc_day": article.published.utc_day,
                },
            )

    def remove_copy(self, copy_id: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM copies WHERE id = ?", (copy_id,))

    def boilerplate(self, outlet_id: str | None, min_articles: int, own_text: str | None = None) -> frozenset[str]:
        """Fingerprints of the lines the outlet repeats in `min_articles` articles or more.

        `own_text`: an archived article's text, for extracting it again. Its own lines do not
        count towards its boilerplate, so that an article that helped make a line boilerplate
        (one of the first `min_articles` to carry it) keeps the line, as when it was archived."""
        if outlet_id is None:
            return frozenset()
        rows = self.conn.execute(
            "SELECT line_fingerprint, articles FROM outlet_lines WHERE outlet_id = ? AND articles >= ?", (outlet_id, min_articles)
        )
        own = _line_fingerprints(own_text) if own_text else frozenset()
        return frozenset(fingerprint for fingerprint, articles in rows if articles - (fingerprint in own) >= min_articles)

    def _join_story(self, article_id: int, text_sketch: tuple[int, ...], story_similarity: float) -> None:
        """The article joins the story of its most similar archived text, or starts one. The
        story's id is its earliest-published article's (undated ones never lead)."""
        self.db["text_sketches"].insert_all({"article_id": article_id, "hash": h} for h in text_sketch)
        match = self._most_similar(article_id, text_sketch, story_similarity)
        story_id = match["story_id"] if match else article_id
        self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))
        self._lead_story(story_id)

    def _lead_story(self, story_id: int) -> None:
        """The story's id becomes its earliest-published article's, if that changed."""
        leader = self.row(
            "SELECT id FROM articles WHERE story_id = ? ORDER BY published_day IS NULL, published_day, id LIMIT 1", (story_id,)
        )
        if leader["id"] != story_id:
            self.conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", (leader["id"], story_id))

    def _most_similar(self, article_id: int, text_sketch: tuple[int, ...], story_similarity: float) -> dict[str, Any] | None:
        """The archived article whose text is most similar, at `story_similarity` or more."""
        if not text_sketch:
            return None
        # A pair at the threshold shares at least that share of the union's smallest hashes.
        shared_at_least = max(1, int(story_similarity * len(text_sketch)))
        candidates = self.conn.execute(
            "SELECT article_id FROM text_sketches WHERE hash IN (SELECT value FROM json_each(?)) AND article_id != ? "
            "GROUP BY article_id HAVING count(*) >= ?",
            (json.dumps(text_sketch), article_id, shared_at_least),
        ).fetchall()
        best, best_score = None, story_similarity
        for (candidate,) in candidates:
            other = tuple(
                h for (h,) in self.conn.execute("SELECT hash FROM text_sketches WHERE article_id = ? ORDER BY hash", (candidate,))
            )
            if (score := similarity(text_sketch, other)) >= best_score:
                best, best_score = candidate, score
        return self.row("SELECT id, story_id FROM articles WHERE id = ?", (best,)) if best else None

    def add_copy(self, page: FetchedPage, article_id: int, relation: str) -> None:
        with self.transaction():
            self.db["copies"].insert(_copy_row(page, article_id, relation))

    def promote_copy(self, page: FetchedPage, article_id: int, topic: Topic, relation: str) -> None:
        """The page is an earlier copy of an archived article: it becomes the article, the
        article's page becomes one of its copies. The article keeps its id."""
        with self.transaction():
            old = self.row(
                "SELECT a.url, a.capture_id, a.outlet_id, a.title, a.published_at, a.published_day, a.published_utc_day, "
                "a.crawl_run_id "
                "FROM articles a WHERE a.id = ?",
                (article_id,),
            )
            self.db["copies"].insert({**old, "article_id": article_id, "relation": relation, "added_at": utc_now()})
            row = _article_row(page, topic)
            del row["added_at"]
            self.db["articles"].update(article_id, row)
            self._replace_matches(article_id, page)
            # the article is now dated earlier: it may lead its story
            story = self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))
            if story["story_id"] is not None:
                self._lead_story(story["story_id"])

    def _replace_matches(self, article_id: int, page: FetchedPage) -> None:
        self.conn.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM keyword_matches WHERE article_id = ?", (article_id,))
        match = page.topic_match
        self.db["mentions"].insert_all(
            {"article_id": article_id, "person_id": m.term, "in_title": m.in_title, "in_body": m.in_body} for m in match.people
        )
        self.db["keyword_matches"].insert_all(
            {"article_id": article_id, "keyword": m.term, "in_title": m.in_title, "in_body": m.in_body} for m in match.keywords
        )

    # --- versions of an article ----------------------------------------

    def version_by_text(self, article_id: int, text_sha256: str) -> dict[str, Any] | None:
        return self.row(
            "SELECT id, version FROM article_versions WHERE article_id = ? AND text_sha256 = ?", (article_id, text_sha256)
        )

    def body_shown(self, article_id: int, content_sha256: str) -> bool:
        """The article's URL gave these very bytes before: its own capture's, or a version's."""
        return (
            self.row(
                "SELECT 1 AS shown FROM captures WHERE content_sha256 = :body AND id IN ("
                "SELECT capture_id FROM articles WHERE id = :article UNION "
                "SELECT capture_id FROM article_versions WHERE article_id = :article)",
                {"body": content_sha256, "article": article_id},
            )
            is not None
        )

    def texts_shown(self, article_id: int) -> list[str]:
        """The texts the article's URL gave: the article's own, then its versions'."""
        return [
            text
            for (text,) in self.conn.execute(
                "SELECT text FROM articles WHERE id = :article UNION ALL "
                "SELECT text FROM article_versions WHERE article_id = :article",
                {"article": article_id},
            )
        ]

    def add_version(self, page: FetchedPage, article_id: int, topic: Topic) -> None:
        """The page is the article's URL with a text not seen there before: record it as a version,
        in one transaction. The first time, the article's own text becomes version 1 beside it.

        The article's row (its text, search entry, mentions, story) holds the earliest captured
        version, the story as first published; a version captured earlier than that (a web
        archive's copy found after the live page) takes its place. Versions are numbered in
        capture order, each with the words it added and removed against the one before."""
        with self.transaction():
            if not self.row("SELECT 1 AS found FROM article_versions WHERE article_id = ?", (article_id,)):
                self.conn.execute(ARTICLE_AS_VERSION, {"article_id": article_id, "added_at": utc_now()})
            self.db["article_versions"].insert(_version_row(page, article_id))
            current = self.row(
                "SELECT coalesce(c.archived_at, c.fetched_at) AS captured_at FROM articles a "
                "JOIN captures c ON c.id = a.capture_id WHERE a.id = ?",
                (article_id,),
            )
            if _version_captured_at(page) < current["captured_at"] and not self.article_by_text(page.article.text_sha256):
                self._take_text_of(page, article_id, topic)
            self._number_versions(article_id)

    def _take_text_of(self, page: FetchedPage, article_id: int, topic: Topic) -> None:
        """The article's row takes the page's text and metadata; it keeps its id and its story
        (the versions of one article are one story), which it may now lead."""
        row = _article_row(page, topic)
        for kept in ("added_at", "url"):
            del row[kept]
        self.db["articles"].update(article_id, row)
        self._replace_matches(article_id, page)
        self.conn.execute("DELETE FROM text_sketches WHERE article_id = ?", (article_id,))
        self.db["text_sketches"].insert_all({"article_id": article_id, "hash": h} for h in sketch(page.article.text))
        story = self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))
        if story["story_id"] is not None:
            self._lead_story(story["story_id"])

    def _number_versions(self, article_id: int) -> None:
        previous = ""
        rows = self.conn.execute(
            "SELECT id, text FROM article_versions WHERE article_id = ? ORDER BY captured_at, id", (article_id,)
        ).fetchall()
        for number, (version_id, text) in enumerate(rows, start=1):
            added, removed = words_changed(previous, text) if number > 1 else (0, 0)
            self.conn.execute(
                "UPDATE article_versions SET version = ?, words_added = ?, words_removed = ? WHERE id = ?",
                (number, added, removed, version_id),
            )
            previous = text

    # --- takedowns ------------------------------------------------------

    def takedown_patterns(self) -> list[str]:
        return [pattern for (pattern,) in self.conn.execute("SELECT pattern FROM takedowns ORDER BY id")]

    def add_takedown(self, pattern: str, reason: str, requested_on: str) -> dict[str, int]:
        """Record the takedown and remove what it covers (see _remove_covered), in one
        transaction. Returns the rows removed per table."""
        if pattern in self.takedown_patterns():
            raise ArchiveError(f"the takedown pattern {pattern!r} is already listed")
        with self._removing([pattern]) as remove:
            removed = remove()
            self.db["takedowns"].insert(
                {
                    "pattern": pattern,
                    "reason": reason,
                    "requested_on": requested_on,
                    "added_at": utc_now(),
                    "records_removed": sum(n for table, n in removed.items() if table != "compression_dictionaries"),
                }
            )
        return removed

    def apply_takedowns(self) -> dict[str, int]:
        """Remove again whatever every listed takedown covers (e.g. pages a crawl that was
        running during `takedown add` stored after it), in one transaction."""
        patterns = self.takedown_patterns()
        if not patterns:
            return {}
        with self._removing(patterns) as remove:
            return remove()

    @contextmanager
    def _removing(self, patterns: list[str]) -> Iterator:
        """A transaction in which taken_down(url) matches the patterns. Deleted pages are
        zeroed on disk (secure_delete), the search index is rebuilt compactly and the WAL
        checkpointed afterwards, so the file keeps no trace of what was removed."""
        matcher = Takedowns(patterns)
        self.conn.create_function("taken_down", 1, lambda url: matcher.covers(url) is not None, deterministic=True)
        self.conn.execute("PRAGMA secure_delete = ON")
        with self.transaction():
            yield self._remove_covered
        self.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _remove_covered(self) -> dict[str, int]:
        """Remove what taken_down() covers: captures whose URL or final URL matches, articles
        and copies at matching URLs or made from those captures, an article's copies (the same
        text) with it and the captures they came from, its versions and their captures (and any
        version whose capture matches), bodies no remaining capture shares,
        mentions, keyword matches and search entries (by cascade and trigger), and matching
        rejects and fetch failures."""
        for statement in TAKEDOWN_SELECTION:
            self.conn.execute(statement)
        retrain = [outlet for (outlet,) in self.conn.execute(TAKEDOWN_DICTIONARIES)]
        removed = {}
        for table, sql in TAKEDOWN_DELETES.items():
            removed[table] = self.conn.execute(sql).rowcount
        removed["compression_dictionaries"] = sum(self._retrain(outlet) for outlet in retrain)
        for temporary in ("gone_captures", "gone_articles", "new_leads"):
            self.conn.execute(f"DROP TABLE temp.{temporary}")
        return removed

    # --- logs -----------------------------------------------------------

    def log_reject(self, url: str, stage: str, reason: str, spider: str, run_id: str, capture_id: int | None) -> bool:
        """One row per URL and stage: seeing it again updates the row instead of adding one.
        times_seen counts runs: a resumed run that sees the URL again does not add to it.
        False when this run had logged it already (a resumed part seeing it again)."""
        now = utc_now()
        with self.transaction():
            logged = self.row("SELECT crawl_run_id FROM rejects WHERE url = ? AND stage = ?", (url, stage))
            self.conn.execute(
                "INSERT INTO rejects (url, stage, reason, capture_id, spider, first_seen_at, last_seen_at, crawl_run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (url, stage) DO UPDATE SET reason = excluded.reason, "
                "capture_id = coalesce(excluded.capture_id, capture_id), last_seen_at = excluded.last_seen_at, "
                "times_seen = times_seen + (crawl_run_id IS NOT excluded.crawl_run_id), crawl_run_id = excluded.crawl_run_id",
                (url, stage, reason, capture_id, spider, now, now, run_id),
            )
        return logged is None or logged["crawl_run_id"] != run_id

    def log_failure(self, failure: FetchFailure) -> bool:
        """One row per URL, as log_reject; False when this run had logged it already."""
        now = failure.failed_at or utc_now()
        with self.transaction():
            logged = self.row("SELECT crawl_run_id FROM fetch_failures WHERE url = ?", (failure.url,))
            self.conn.execute(
                "INSERT INTO fetch_failures (url, status, error, spider, first_seen_at, last_seen_at, crawl_run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET status = excluded.status, error = excluded.error, "
                "last_seen_at = excluded.last_seen_at, times_seen = times_seen + (crawl_run_id IS NOT excluded.crawl_run_id), "
                "crawl_run_id = excluded.crawl_run_id",
                (failure.url, failure.status, failure.error, failure.spider, now, now, failure.crawl_run_id),
            )
        return logged is None or logged["crawl_run_id"] != failure.crawl_run_id


# What a crawl run counts (crawl_runs columns), and how counts are added to them.
RUN_COUNTS = ("pages_fetched", "articles_added", "copies_added", "versions_added", "rejects", "fetch_failures")
ADD_RUN_COUNTS = (
    "UPDATE crawl_runs SET pages_fetched = pages_fetched + :pages_fetched, "
    "articles_added = articles_added + :articles_added, copies_added = copies_added + :copies_added, "
    "versions_added = versions_added + :versions_added, rejects = rejects + :rejects, "
    "fetch_failures = fetch_failures + :fetch_failures WHERE id = :run_id"
)

# What a takedown removes, with taken_down(url) registered by Archive.add_takedown.
TAKEDOWN_SELECTION = (
    "CREATE TEMP TABLE gone_captures AS SELECT id FROM captures WHERE taken_down(url) OR taken_down(final_url)",
    "CREATE TEMP TABLE gone_articles AS SELECT id FROM articles "
    "WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures)",
    "INSERT INTO temp.gone_captures SELECT capture_id FROM articles WHERE id IN (SELECT id FROM temp.gone_articles) "
    "UNION SELECT capture_id FROM copies WHERE taken_down(url) OR article_id IN (SELECT id FROM temp.gone_articles) "
    "UNION SELECT capture_id FROM article_versions WHERE article_id IN (SELECT id FROM temp.gone_articles)",
    # A story whose lead goes is led by its earliest-published remaining article (undated ones
    # never lead; an article left alone leads itself). Computed before anything changes.
    "CREATE TEMP TABLE new_leads AS SELECT a.story_id AS old_lead, ("
    "  SELECT m.id FROM articles m WHERE m.story_id = a.story_id AND m.published_day IS NOT NULL"
    "  AND m.id NOT IN (SELECT id FROM temp.gone_articles) ORDER BY m.published_day, m.id LIMIT 1) AS new_lead "
    "FROM articles a WHERE a.story_id IN (SELECT id FROM temp.gone_articles) GROUP BY a.story_id",
    "UPDATE articles SET story_id = coalesce((SELECT new_lead FROM temp.new_leads WHERE old_lead = articles.story_id), id) "
    "WHERE story_id IN (SELECT id FROM temp.gone_articles) AND id NOT IN (SELECT id FROM temp.gone_articles)",
)
# Outlets whose dictionaries may have learnt from a removed page: they are trained again without it.
TAKEDOWN_DICTIONARIES = (
    "SELECT DISTINCT outlet_id FROM captures WHERE id IN (SELECT id FROM temp.gone_captures) "
    "AND outlet_id IN (SELECT outlet_id FROM compression_dictionaries) ORDER BY outlet_id"
)
TAKEDOWN_DELETES = {
    "rejects": "DELETE FROM rejects WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures)",
    "copies": "DELETE FROM copies WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures) "
    "OR article_id IN (SELECT id FROM temp.gone_articles)",
    "article_versions": "DELETE FROM article_versions WHERE capture_id IN (SELECT id FROM temp.gone_captures) "
    "OR article_id IN (SELECT id FROM temp.gone_articles)",
    # mentions and keyword_matches go with their article (ON DELETE CASCADE), the index by trigger
    "articles": "DELETE FROM articles WHERE id IN (SELECT id FROM temp.gone_articles)",
    "captures": "DELETE FROM captures WHERE id IN (SELECT id FROM temp.gone_captures)",
    "capture_bodies": "DELETE FROM capture_bodies WHERE content_sha256 NOT IN (SELECT content_sha256 FROM captures)",
    "fetch_failures": "DELETE FROM fetch_failures WHERE taken_down(url)",
}


# What extracting a capture again may change in its article; the rest (id, URL, capture,
# outlet, source, when and by which run it was added, its story) stays.
REEXTRACTED_COLUMNS = (
    "title",
    "authors",
    "published_at",
    "published_day",
    "published_utc_day",
    "published_source",
    "date_candidates",
    "modified_at",
    "date_trusted",
    "text_flags",
    "language",
    "sitename",
    "description",
    "text",
    "word_count",
    "text_sha256",
    "keywords",
    "people",
    "relevance",
    "extractor",
)


def _line_fingerprints(text: str) -> frozenset[str]:
    return frozenset(line_fingerprint(line) for line in text.split("\n") if may_be_boilerplate(line))


def _article_row(page: FetchedPage, topic: Topic) -> dict[str, Any]:
    article, match = page.article, page.topic_match
    names = {p.id: p.name for p in topic.people}
    return {
        "url": page.canonical_url,
        "capture_id": page.capture_id,
        "outlet_id": page.outlet_id,
        "title": article.title,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "published_at": article.published.value,
        "published_day": article.published.day,
        "published_utc_day": article.published.utc_day,
        "published_source": article.published.source,
        "date_candidates": json.dumps([c.as_dict() for c in article.published.candidates]),
        "modified_at": article.published.modified,
        "date_trusted": int(article.published.trusted),
        "text_flags": json.dumps(article.text_flags),
        "language": article.language,
        "sitename": article.sitename,
        "description": article.description,
        "text": article.text,
        "word_count": article.word_count,
        "text_sha256": article.text_sha256,
        "keywords": json.dumps([m.term for m in match.keywords], ensure_ascii=False),
        "people": json.dumps([names[m.term] for m in match.people], ensure_ascii=False),
        "relevance": match.reason,
        "source": page.source,
        "extractor": article.extractor,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }


# The article's own text as version 1, when its URL first gives another text.
ARTICLE_AS_VERSION = (
    "INSERT INTO article_versions (article_id, version, capture_id, captured_at, title, published_at, modified_at, "
    "text, word_count, text_sha256, words_added, words_removed, added_at, crawl_run_id) "
    "SELECT a.id, 1, a.capture_id, coalesce(c.archived_at, c.fetched_at), a.title, a.published_at, a.modified_at, "
    "a.text, a.word_count, a.text_sha256, 0, 0, :added_at, a.crawl_run_id "
    "FROM articles a JOIN captures c ON c.id = a.capture_id WHERE a.id = :article_id"
)


def _version_captured_at(page: FetchedPage) -> str:
    return page.archived_at or page.fetched_at


def _version_row(page: FetchedPage, article_id: int) -> dict[str, Any]:
    article = page.article
    return {
        "article_id": article_id,
        "version": 0,
        "capture_id": page.capture_id,  # numbered once inserted
        "captured_at": _version_captured_at(page),
        "title": article.title,
        "published_at": article.published.value,
        "modified_at": article.published.modified,
        "text": article.text,
        "word_count": article.word_count,
        "text_sha256": article.text_sha256,
        "words_added": 0,
        "words_removed": 0,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }


def words_changed(before: str, after: str) -> tuple[int, int]:
    """Words added and words removed from `before` to `after`: the size of a word diff."""
    matcher = difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def _copy_row(page: FetchedPage, article_id: int, relation: str) -> dict[str, Any]:
    article = page.article
    return {
        "article_id": article_id,
        "url": page.canonical_url,
        "capture_id": page.capture_id,
        "outlet_id": page.outlet_id,
        "title": article.title,
        "published_at": article.published.value,
        "published_day": article.published.day,
        "published_utc_day": article.published.utc_day,
        "relation": relation,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }
