"""What the archive's table modules share: the error they raise, the time they write, and the part
of the Archive (pipelines/store/archive.py) each of them is written against."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import sqlite_utils


class ArchiveError(Exception):
    """The archive file cannot be opened or used: the message says why."""


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Tables:
    """The base of each part of Archive that keeps some tables (captures.py, articles.py, ...):
    Archive opens the connection and gives them `conn`, `db` (sqlite-utils on it), `transaction()`
    (all or nothing) and `snapshot()` (reads that see one state)."""

    conn: sqlite3.Connection
    db: sqlite_utils.Database
    transaction: Callable[[], AbstractContextManager[None]]
    snapshot: Callable[[], AbstractContextManager[None]]

    def row(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        cursor = self.conn.execute(sql, params)
        found = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], found)) if found else None
