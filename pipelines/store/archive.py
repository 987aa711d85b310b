"""The SQLite archive: opening it (with migrations, or read-only), its transactions, and `Archive`,
the one object callers write and read through.

Archive's methods live with the tables they keep, one module each:
- runs.py: topics, outlets, people, crawl runs and their counts, rejects, fetch failures
- captures.py: captures, their compressed bodies, the outlets' compression dictionaries
- articles.py: articles, copies, mentions, keyword matches, the outlets' repeated lines
- stories.py: text sketches and the story each article belongs to
- versions.py: the versions of an article
- takedowns.py: takedowns and what each removes
The rules they apply (stories, versions, boilerplate) are the core's (pipelines/core/)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

# F401: RUN_COUNTS, REEXTRACTED_COLUMNS, _article_row, utc_now re-exported (the page writers import them from here).
from pipelines.store.articles import REEXTRACTED_COLUMNS, _article_row  # noqa: F401
from pipelines.store.compression import DictionaryPolicy
from pipelines.store.runs import RUN_COUNTS, Runs  # noqa: F401
from pipelines.store.schema import SCHEMA_VERSION, ForeignDatabase, migrate, schema_version
from pipelines.store.tables import ArchiveError, utc_now  # noqa: F401
from pipelines.store.takedowns import Takedowns
from pipelines.store.versions import Versions

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


class Archive(Runs, Takedowns, Versions):
    """One connection to one archive file. Readers (Datasette) may share the file: WAL mode.
    Its writes and reads are those of the table modules it is made of (see above): Runs, Takedowns
    (on Captures), Versions (on Articles, on Stories).

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
        self.start_codecs(dictionaries)

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
            code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
            if code == sqlite3.SQLITE_READONLY:  # e.g. storage made read-only meanwhile
                raise ArchiveError(f"{self.path} is read-only: {WRITES_HERE}") from None
            if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):  # each migration is all or nothing
                raise ArchiveError(
                    f"cannot write to {self.path} ({error}): is its disk full? Free some space and run the command "
                    "again; the archive is as it was"
                ) from None
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
            self.forget_codecs()
            return False
        self.conn.execute("COMMIT")
        return True

    def discard(self) -> None:
        """Roll back what hold() opened."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.forget_codecs()

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

    def count(self, table: str) -> int:
        return self.db[table].count
