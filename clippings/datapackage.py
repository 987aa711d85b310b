"""A release as a Frictionless Data Package: a CSV per table, datapackage.json, README.md, CITATION.cff.

Field types come from the SQLite schema, descriptions from metadata.yml (the same Datasette
shows). Cells that a spreadsheet would run as formulas are neutralised (clippings/csvcells.py).
A package is written beside its target and moved into place only when complete.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from clippings import PROJECT_URL, __version__
from clippings.atomic import TargetExists, partial_file, partial_folder, publish, remove_stale_partials
from clippings.csvcells import neutralise, restore
from clippings.datasheet import datasheet, datasheet_markdown
from clippings.publish import ARCHIVE_KEY, load_metadata
from clippings.release import built_release, public_tables

DATA_FOLDER = "data"
DESCRIPTOR = "datapackage.json"
# A CSV cell may hold a whole article (or a raw page, base64, in a full package).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class PackageError(Exception):
    """The data package cannot be written or read: the message says why."""


def write_datapackage_release(
    db: Path, directory: Path, public: bool, snippets: int = 0, authors: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A release of the archive `db` as a data package in the new folder `directory`."""
    remove_stale_partials(directory)
    refuse_existing(directory)
    with built_release(db, directory, public, snippets) as (release, summary):
        write_datapackage(release, directory, authors)
    return summary


def write_datapackage(release: Path, directory: Path, authors: tuple[str, ...] = ()) -> None:
    """The release file `release` as a data package in the new folder `directory`."""
    remove_stale_partials(directory)
    refuse_existing(directory)
    try:
        with partial_folder(directory) as partial:
            _write_contents(release, partial, authors)
            publish(partial, directory)
    except TargetExists as error:
        raise PackageError(f"{error}; give a new folder") from None
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise PackageError(f"cannot write the data package {directory} ({reason}); nothing was left there") from None


def refuse_existing(directory: Path) -> None:
    if directory.exists():
        raise PackageError(f"{directory} exists already; give a new folder for the data package")
    if not directory.parent.is_dir():
        raise PackageError(f"cannot write {directory}: the folder {directory.parent} does not exist")


def _write_contents(release: Path, folder: Path, authors: tuple[str, ...]) -> None:
    conn = sqlite3.connect(f"{release.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ((kind, created_at),) = conn.execute("SELECT kind, created_at FROM releases ORDER BY rowid DESC LIMIT 1")
        tables = _package_tables(conn, kind)
        descriptions = _described_tables()
        (folder / DATA_FOLDER).mkdir()
        resources = [_write_resource(conn, table, folder, descriptions, tables) for table in tables]
        sheet = datasheet(conn)
    finally:
        conn.close()
    topic = sheet["topics"][-1] if sheet["topics"] else {}
    descriptor = _descriptor(kind, created_at, topic, resources)
    (folder / DESCRIPTOR).write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(_readme(kind, descriptor, sheet), encoding="utf-8")
    (folder / "CITATION.cff").write_text(_citation(kind, created_at, topic, authors), encoding="utf-8")


def _package_tables(conn: sqlite3.Connection, kind: str) -> list[str]:
    """Every real table; in a public package only the public ones, and snippets only if asked for."""
    shadow = {row[1] for row in conn.execute("PRAGMA table_list") if row[2] in ("shadow", "virtual")}
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        )
        if name not in shadow
    ]
    if kind == "public":
        names = [n for n in names if n in public_tables()]
        if not conn.execute("SELECT 1 FROM release_snippets LIMIT 1").fetchone():
            names.remove("release_snippets")
    return names


def _write_resource(conn: sqlite3.Connection, table: str, folder: Path, descriptions: dict, tables: list[str]) -> dict[str, Any]:
    """Write TABLE.csv; its resource entry for datapackage.json."""
    path = f"{DATA_FOLDER}/{table}.csv"
    columns = _columns(conn, table)
    with (folder / path).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([name for name, _ in columns])
        for row in conn.execute(f"SELECT {', '.join(_quoted(n) for n, _ in columns)} FROM {_quoted(table)}"):
            writer.writerow([csv_cell(value) for value in row])
    return resource(conn, table, path, descriptions.get(table) or {}, tables)


def csv_cell(value: Any) -> str | int | float:
    """How a SQLite value is written in a package's CSV."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return neutralise(value)
    return value


def resource(conn: sqlite3.Connection, table: str, path: str, described: dict, tables: list[str]) -> dict[str, Any]:
    """The Table Schema of `table` (types from SQLite, descriptions from metadata.yml)."""
    columns = described.get("columns") or {}
    fields = [
        {"name": name, **_field_type(declared, columns.get(name) or ""), "description": (columns.get(name) or "").strip()}
        for name, declared in _columns(conn, table)
    ]
    schema: dict[str, Any] = {"fields": [{k: v for k, v in f.items() if v} for f in fields]}
    keys = [
        row[1] for row in sorted((r for r in conn.execute(f"PRAGMA table_info({_quoted(table)})") if r[5]), key=lambda r: r[5])
    ]
    if keys:
        schema["primaryKey"] = keys
    foreign = _foreign_keys(conn, table, tables)
    if foreign:
        schema["foreignKeys"] = foreign
    entry = {
        "name": table,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": str(described.get("description") or "").strip(),
        "schema": schema,
    }
    return {k: v for k, v in entry.items() if v}


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2] or "") for row in conn.execute(f"PRAGMA table_info({_quoted(table)})")]


def _field_type(declared: str, description: str) -> dict[str, str]:
    """Table Schema type of a column, by SQLite's affinity rules; JSON columns (metadata.yml
    describes each as a "JSON array" or "JSON object") as arrays and objects."""
    declared = declared.upper()
    if "INT" in declared:
        return {"type": "integer"}
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        found = re.match(r"JSON (array|object)\b", description.strip())
        return {"type": found.group(1) if found else "string"}
    if "BLOB" in declared:
        return {"type": "string", "format": "binary"}  # base64
    if not declared:
        return {"type": "any"}
    return {"type": "number"}


def _foreign_keys(conn: sqlite3.Connection, table: str, tables: list[str]) -> list[dict[str, Any]]:
    """References to tables the package holds (a public one holds no raw pages to point at)."""
    groups: dict[int, list[tuple]] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({_quoted(table)})"):
        groups.setdefault(row[0], []).append(row)
    keys = []
    for rows in groups.values():
        target = rows[0][2]
        if target not in tables:
            continue
        targets = [r[4] for r in rows]
        if None in targets:
            targets = [r[1] for r in conn.execute(f"PRAGMA table_info({_quoted(target)})") if r[5]]
        keys.append({"fields": [r[3] for r in rows], "reference": {"resource": target, "fields": targets}})
    return keys


def _descriptor(kind: str, created_at: str, topic: dict, resources: list[dict]) -> dict[str, Any]:
    name = re.sub(r"[^a-z0-9._-]+", "-", f"{topic.get('name') or 'clippings'}-{kind}".lower()).strip("-")
    window = topic.get("window") or ("", "")
    return {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"{topic.get('title') or 'clippings archive'}: {kind} release",
        "description": _what_it_holds(kind) + f" Topic window {window[0]} to {window[1]}. " + CSV_CELLS_NOTE,
        "created": created_at,
        "keywords": list(topic.get("keywords") or []),
        "sources": [{"title": f"clippings {__version__}", "path": PROJECT_URL}],
        "resources": resources,
    }


CSV_CELLS_NOTE = (
    "Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage "
    "return, numbers excepted) have an apostrophe put in front, as have cells starting with apostrophes "
    "followed by one of those; remove the first apostrophe of such cells to get the raw value."
)


def _what_it_holds(kind: str) -> str:
    if kind == "public":
        return (
            "Metadata of press articles, without their text: URLs, titles, authors, dates with their "
            "provenance, outlets, people and keywords named, relevance, copies, stories, text hashes and "
            "word counts, and capture metadata (URLs, statuses, times, hashes). The texts can be restored "
            "from the URLs with `clippings rehydrate`."
        )
    return (
        "Everything in the archive, full texts and raw pages (base64 of the stored zstd bytes) included: "
        "for private research use, not for publication."
    )


def _readme(kind: str, descriptor: dict, sheet: dict) -> str:
    lines = [f"# {descriptor['title']}", "", descriptor["description"], "", "## Files", ""]
    lines += [f"- `{r['path']}`: {r.get('description', '')}" for r in descriptor["resources"]]
    lines += [
        "",
        "`datapackage.json` describes every column (type and meaning); `CITATION.cff` says how to cite it.",
        "",
        "## Getting the raw cell values",
        "",
        "```python",
        "import re",
        'raw = re.sub(r"^\'(?=\'*[=+\\-@\\t\\r])", "", cell)',
        "```",
        "",
    ]
    if kind == "public":
        lines += [
            "## Restoring the texts",
            "",
            "```sh",
            "clippings rehydrate THIS_FOLDER",
            "```",
            "",
            "fetches each article's URL again (the live page, else the Wayback Machine's copy) and restores "
            "its text when its SHA-256 matches `articles.text_sha256`.",
            "",
        ]
    return "\n".join(lines) + "\n" + datasheet_markdown(sheet)


def _citation(kind: str, created_at: str, topic: dict, authors: tuple[str, ...]) -> str:
    window = topic.get("window") or ("", "")
    citation = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": f"{topic.get('title') or 'clippings archive'}: press coverage {window[0]} to {window[1]} ({kind} release)",
        "abstract": (
            f'Press coverage of the topic "{topic.get("name", "")}" in the window {window[0]} to {window[1]}, '
            f"collected and released with clippings {__version__}. " + _what_it_holds(kind)
        ),
        "authors": [{"name": name} for name in authors] or [{"name": "anonymous"}],
        "date-released": created_at[:10],
        "keywords": [str(k) for k in topic.get("keywords") or []],
        "references": [
            {
                "type": "software",
                "title": "clippings",
                "version": __version__,
                "url": PROJECT_URL,
                "authors": [{"name": "clippings contributors"}],
            }
        ],
    }
    return yaml.safe_dump(citation, allow_unicode=True, sort_keys=False, width=100)


def _described_tables() -> dict[str, Any]:
    """metadata.yml's descriptions of the archive's tables and columns."""
    return load_metadata(Path(ARCHIVE_KEY))["databases"][ARCHIVE_KEY]["tables"]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- rehydration of a package ----------------------------------------------------------------

SCRATCH_SCHEMA = """
CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT NOT NULL, text_sha256 TEXT NOT NULL, capture_id INTEGER,
                       text TEXT NOT NULL DEFAULT '');
CREATE TABLE captures (id INTEGER PRIMARY KEY, fetched_at TEXT, archived_at TEXT);
CREATE TABLE article_versions (article_id INTEGER NOT NULL, version INTEGER NOT NULL, text_sha256 TEXT NOT NULL,
                               text TEXT NOT NULL DEFAULT '');
"""


def package_folder(path: Path) -> Path | None:
    """The data package `path` names (its folder or its datapackage.json), or None if it is none."""
    folder = path if path.is_dir() else path.parent if path.name == DESCRIPTOR else None
    return folder if folder is not None and (folder / DESCRIPTOR).is_file() else None


@contextmanager
def rehydration_file(folder: Path) -> Iterator[Path]:
    """A scratch SQLite file with what `clippings rehydrate` reads and writes (articles, captures,
    versions), loaded from the package; removed on the way out."""
    with partial_file(folder / ".rehydration") as scratch:
        conn = sqlite3.connect(scratch, isolation_level=None)
        try:
            conn.executescript(SCRATCH_SCHEMA)
            conn.execute("BEGIN")
            _load(conn, folder, "articles", ("id", "url", "text_sha256", "capture_id"))
            _load(conn, folder, "captures", ("id", "fetched_at", "archived_at"))
            _load(conn, folder, "article_versions", ("article_id", "version", "text_sha256"), required=False)
            conn.execute("COMMIT")
        finally:
            conn.close()
        yield scratch


def _load(conn: sqlite3.Connection, folder: Path, table: str, columns: tuple[str, ...], required: bool = True) -> None:
    path = _resource_path(folder, table)
    if path is None:
        if required:
            raise PackageError(f"{folder} has no {table} table in {DESCRIPTOR}; is it a clippings data package?")
        return
    placeholders = ", ".join("?" for _ in columns)
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
        (tuple(row.get(c) or None for c in columns) for row in read_rows(path)),
    )


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a package CSV, with the raw cell values."""
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            yield {name: restore(value) for name, value in row.items()}


def _resource_path(folder: Path, name: str) -> Path | None:
    try:
        descriptor = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PackageError(f"cannot read {folder / DESCRIPTOR} ({error})") from None
    for entry in descriptor.get("resources") or []:
        if entry.get("name") == name and isinstance(entry.get("path"), str):
            path = (folder / entry["path"]).resolve()
            if folder.resolve() not in path.parents:
                raise PackageError(f"{DESCRIPTOR} points {name} outside the package ({entry['path']})")
            return path
    return None


def apply_rehydration(folder: Path, scratch: Path) -> None:
    """Write what rehydration restored into the package: the texts into articles.csv and
    article_versions.csv, its report as rehydrations.csv (a resource in datapackage.json)."""
    conn = sqlite3.connect(f"{scratch.resolve().as_uri()}?mode=ro", uri=True)
    try:
        texts = dict(conn.execute("SELECT id, text FROM articles WHERE text != ''"))
        _fill_texts(_resource_path(folder, "articles"), lambda row: texts.get(int(row["id"])))
        version_texts = {
            (a, h): t for a, h, t in conn.execute("SELECT article_id, text_sha256, text FROM article_versions WHERE text != ''")
        }
        versions = _resource_path(folder, "article_versions")
        if versions is not None:
            _fill_texts(versions, lambda row: version_texts.get((int(row["article_id"]), row["text_sha256"])))
        _write_report(conn, folder)
    finally:
        conn.close()


def _fill_texts(path: Path, text_of) -> None:
    """Rewrite a CSV with the `text` cells `text_of(row)` gives (others as they were)."""
    replacement = path.with_name(f".{path.name}.partial")
    with path.open(encoding="utf-8", newline="") as source, replacement.open("w", encoding="utf-8", newline="") as out:
        reader, writer = csv.DictReader(source), None
        for row in reader:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
                writer.writeheader()
            text = text_of({k: restore(v) for k, v in row.items()})
            if text:
                row["text"] = neutralise(text)
            writer.writerow(row)
        if writer is None:
            csv.writer(out).writerow(reader.fieldnames or [])
    os.replace(replacement, path)


def _write_report(conn: sqlite3.Connection, folder: Path) -> None:
    path = f"{DATA_FOLDER}/rehydrations.csv"
    (folder / DATA_FOLDER).mkdir(exist_ok=True)
    columns = _columns(conn, "rehydrations")
    with (folder / path).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([name for name, _ in columns])
        writer.writerows(
            [csv_cell(v) for v in row]
            for row in conn.execute(f"SELECT {', '.join(_quoted(n) for n, _ in columns)} FROM rehydrations ORDER BY article_id")
        )
    descriptor_path = folder / DESCRIPTOR
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    described = _described_tables().get("rehydrations") or {}
    entry = resource(conn, "rehydrations", path, described, ["articles"])
    descriptor["resources"] = [r for r in descriptor.get("resources") or [] if r.get("name") != "rehydrations"] + [entry]
    replacement = descriptor_path.with_name(f".{DESCRIPTOR}.partial")
    replacement.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(replacement, descriptor_path)
