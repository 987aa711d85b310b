"""A memory bound for the SQL a public Datasette runs: the time limit alone lets one query take
gigabytes (randomblob(900000000) allocates 900 MB in one step, which no time check interrupts).

The plugin setting `sql_memory_limit_mb` bounds two things:
- SQLite's heap (PRAGMA hard_heap_limit): whatever SQLite holds at once, all connections of the
  process together, values being built included. Beyond it SQLite fails with "out of memory",
  which Python raises as MemoryError: the request gets a 400 saying so.
- A query's rows as Python holds them (Datasette keeps up to max_returned_rows of them), to a
  sixteenth of the setting: the row factory counts their bytes and fails the query beyond that.
  SQLite frees each row once handed over, so its heap limit alone would let a thousand big rows
  through. Only a share, because Datasette writing rows as JSON takes up to 30 times their size
  (NUL bytes, written \u0000: 467 MB for 15 MB, measured in RELIABILITY.md).
So the server's peak for one query stays within about twice the setting.
"""

from __future__ import annotations

import sqlite3
import sys
import weakref
from collections.abc import Callable
from typing import Any

SQL_MEMORY_LIMIT_MB = 256
ROWS_SHARE = 16  # one query's rows may hold 1/ROWS_SHARE of the bound
SETTING = "sql_memory_limit_mb"
ROWS_TOO_BIG = (
    "this query's results need more than the {mb:g} MB of memory this server gives one query's rows "
    "(a sixteenth of the clippings plugin's sql_memory_limit_mb): ask for fewer rows or columns"
)
HEAP_EXHAUSTED = (
    "this query needs more than the {mb} MB of memory this server gives SQLite "
    "(the clippings plugin's sql_memory_limit_mb): ask for fewer or smaller values"
)


def memory_limit_mb(config: dict[str, Any] | None) -> int:
    """The bound in MB from the plugin's configuration (0: none)."""
    value = (config or {}).get(SETTING, SQL_MEMORY_LIMIT_MB)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the clippings plugin's {SETTING} must be a whole number of MB (0: no bound), not {value!r}")
    return value


def bound_connection(conn: sqlite3.Connection, limit_mb: int) -> None:
    """Bound what SQLite may hold (process-wide) and what one query on `conn` may return."""
    if not limit_mb:
        return
    limit = limit_mb * 1024 * 1024
    conn.execute(f"PRAGMA hard_heap_limit = {limit}")
    conn.row_factory = bounded_rows(limit // ROWS_SHARE, ROWS_TOO_BIG.format(mb=limit_mb / ROWS_SHARE))


def bounded_rows(limit: int, message: str) -> Callable[[sqlite3.Cursor, tuple], sqlite3.Row]:
    """A row factory giving sqlite3.Row (as Datasette's does) that raises once the rows one
    cursor has returned pass `limit` bytes. One per connection: a connection serves one
    thread at a time."""
    returned: weakref.WeakKeyDictionary[sqlite3.Cursor, int] = weakref.WeakKeyDictionary()

    def row_factory(cursor: sqlite3.Cursor, values: tuple) -> sqlite3.Row:
        size = returned.get(cursor, 0) + sum(map(sys.getsizeof, values))
        if size > limit:
            raise sqlite3.OperationalError(message)
        returned[cursor] = size
        return sqlite3.Row(cursor, values)

    return row_factory
