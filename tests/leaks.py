"""Finding article text where it must not be: runs of twelve words of any archived text."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

RUN_WORDS = 12


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def runs_of(text: str) -> set[tuple[str, ...]]:
    found = words(text)
    return {tuple(found[i : i + RUN_WORDS]) for i in range(len(found) - RUN_WORDS + 1)}


def archive_text_runs(db: Path) -> set[tuple[str, ...]]:
    """Every run of twelve words of every text in the archive (articles and their versions)."""
    conn = sqlite3.connect(db)
    try:
        texts = [t for (t,) in conn.execute("SELECT text FROM articles UNION ALL SELECT text FROM article_versions")]
    finally:
        conn.close()
    assert texts and all(len(words(t)) > RUN_WORDS for t in texts)
    return set().union(*(runs_of(t) for t in texts))


def leaks_in_text(text: str, runs: set[tuple[str, ...]], most: int = 3) -> list[str]:
    """Up to `most` runs of `text` that are runs of an archived text."""
    found, leaks = words(text), []
    for i in range(len(found) - RUN_WORDS + 1):
        run = tuple(found[i : i + RUN_WORDS])
        if run in runs:
            leaks.append(" ".join(run))
            if len(leaks) == most:
                break
    return leaks


def leaks_in_file(path: Path, runs: set[tuple[str, ...]]) -> list[str]:
    """Runs found in the file's bytes (freed pages and journals included) and, for a SQLite
    file, in any cell of any table."""
    found = leaks_in_text(path.read_bytes().decode("utf-8", errors="ignore"), runs)
    if path.read_bytes()[:16] == b"SQLite format 3\x00":
        found += leaks_in_database(path, runs)
    return found


def leaks_in_database(path: Path, runs: set[tuple[str, ...]]) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        found = []
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [leak for cell in row if isinstance(cell, str) for leak in leaks_in_text(cell, runs)]
        return found
    except sqlite3.DatabaseError:
        return []  # a partial file SQLite cannot read: its bytes were checked
    finally:
        conn.close()


def leaks_in_folder(folder: Path, runs: set[tuple[str, ...]]) -> dict[str, list[str]]:
    """{file: runs found} for every file under `folder`."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        leaks = leaks_in_file(path, runs)
        if leaks:
            found[str(path.relative_to(folder))] = leaks[:3]
    return found
