"""Publishing an archive with Datasette: the project's metadata.yml, fitted to any database file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from pipelines.core.bundled import METADATA_FILE

# The name metadata.yml describes the archive under; Datasette names a database by its file stem.
ARCHIVE_KEY = "archive"


def load_metadata(db_path: Path) -> dict[str, Any]:
    """metadata.yml, with the archive's entry under the name Datasette gives `db_path`."""
    metadata = yaml.safe_load(METADATA_FILE.read_text(encoding="utf-8"))
    databases = metadata.get("databases") or {}
    if ARCHIVE_KEY in databases:
        databases[Path(db_path).stem] = databases.pop(ARCHIVE_KEY)
    return metadata


def write_metadata(db_path: Path, out_path: Path, plugin_config: dict[str, Any] | None = None) -> Path:
    """Write the metadata for `db_path` as JSON (which Datasette also reads) to `out_path`;
    `plugin_config`: settings of the clippings plugin on top of metadata.yml's."""
    metadata = load_metadata(db_path)
    if plugin_config:
        plugins = metadata.setdefault("plugins", {})
        plugins["clippings"] = {**(plugins.get("clippings") or {}), **plugin_config}
    out_path = Path(out_path)
    out_path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    return out_path


def datasette_arguments(db_path: Path, port: int, metadata_path: Path, immutable: bool = False) -> list[str]:
    """`datasette` arguments serving `db_path` read-only on loopback with the given metadata.

    An archive is served mutable: it is in WAL mode and a crawl may be writing to it, and an
    immutable connection ignores the WAL, so it would miss or misread the latest articles.
    A release file, which nothing writes to, is served immutable (-i).
    """
    return [
        "serve",
        *(["-i"] if immutable else []),
        str(db_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metadata",
        str(metadata_path),
        "--setting",
        "sql_time_limit_ms",
        "3500",
        "--setting",
        "max_returned_rows",
        "1000",
        # A whole table streams as CSV (?_stream=on); Datasette's default stops at 100 MB,
        # which a big archive's articles table passes (BENCHMARKS.md).
        "--setting",
        "max_csv_mb",
        "0",
    ]


def datasette_command(db_path: Path, port: int, metadata_path: Path, immutable: bool = False) -> list[str]:
    """The same, as a command line for a separate process."""
    return [sys.executable, "-m", "datasette", *datasette_arguments(db_path, port, metadata_path, immutable)]
