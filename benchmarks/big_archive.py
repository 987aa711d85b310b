"""Datasette on a big archive against the same SQL run directly in sqlite3, side by side in one run.

For each page (full-text search, faceted and filtered table pages, every canned query) it takes
the statements Datasette ran (its own trace), runs exactly those on a plain sqlite3 connection,
and prints both medians, their ratio, and the query plans' full scans. CSV streaming of the
whole articles table is compared with iterating the same SELECT into the csv module.

    python benchmarks/synthetic_archive.py --articles 200000 --db /tmp/big.db
    python benchmarks/big_archive.py --db /tmp/big.db
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasette.app import Datasette  # noqa: E402
from datasette.utils import escape_fts  # noqa: E402

from clippings.publish import load_metadata  # noqa: E402

RUNS = 5
# Datasette's settings as `clippings serve` uses them, with the facet time limit raised so that
# every facet completes (a facet cut off at the default 200 ms would make Datasette look faster).
SETTINGS = {
    "sql_time_limit_ms": 3500,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 3500,
    "max_csv_mb": 0,
    "trace_debug": True,
    "suggest_facets": False,
}
CANNED_PARAMS = {
    "articles_mentioning_person": "person=Alyssa+Milano",
    "search_articles": "q=Milano",
    "first_week_coverage": "person=Alyssa+Milano",
}
INTERNAL = ("sqlite_master", "INSERT INTO", "INSERT OR REPLACE INTO", "PRAGMA")


def pages(db: str, queries: list[str], outlet: str) -> list[tuple[str, str]]:
    cases = [
        ("full-text search", f"/{db}/articles.json?_search=Milano&_size=50"),
        ("faceted table (default facets)", f"/{db}/articles.json?_size=50"),
        ("filter language + facets", f"/{db}/articles.json?language=en&_size=50"),
        (
            "person filter, as the person facet links (_through mentions)",
            f"/{db}/articles.json?_through=" + '{"table":"mentions","column":"person_id","value":"alyssa-milano"}' + "&_size=50",
        ),
        (
            "person filter on the JSON array (people__arraycontains)",
            f"/{db}/articles.json?people__arraycontains=Alyssa+Milano&_size=50",
        ),
        ("outlet and day filter", f"/{db}/articles.json?outlet_id={outlet}&published_day__gte=2017-10-15&_size=50"),
    ]
    cases += [(f"canned: {name}", f"/{db}/{name}.json?{CANNED_PARAMS.get(name, '')}") for name in queries]
    return cases


async def datasette_case(ds: Datasette, path: str, canned: dict | None) -> tuple[float, list[tuple[str, object]], dict]:
    await ds.client.get(path)  # warm caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await ds.client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    if canned is not None:
        # A canned query's SQL is in metadata.yml; Datasette binds every omitted parameter as ''.
        # (Its _trace breaks on large JSON responses, so it is not used here.)
        given = dict(parse_qsl(urlsplit(path).query))
        statements = [(canned["sql"], {name: given.get(name, "") for name in canned.get("params", [])})]
        return statistics.median(times), statements, {}
    traced = (await ds.client.get(path + ("&" if "?" in path else "?") + "_trace=1")).json()
    statements = [
        (t["sql"], t["params"])
        for t in traced["_trace"]["traces"]
        if t.get("database") not in ("_internal",) and not any(k in t["sql"] for k in INTERNAL)
    ]
    return statistics.median(times), statements, traced


def raw_case(conn: sqlite3.Connection, statements) -> float:
    times = []
    for _ in range(RUNS + 1):
        started = time.perf_counter()
        for sql, params in statements:
            # Datasette reads at most max_returned_rows + 1 rows of a query.
            conn.execute(sql, params or {}).fetchmany(SETTINGS["max_returned_rows"] + 1)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def full_scans(conn: sqlite3.Connection, statements) -> list[str]:
    """Plan lines that read a whole table (SQLite says SCAN without an index)."""
    found = set()
    for sql, params in statements:
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params or {}):
            detail = row[3]
            if detail.startswith("SCAN ") and "USING" not in detail and "VIRTUAL TABLE" not in detail:
                found.add(detail)
    return sorted(found)


async def csv_case(ds: Datasette, db: str, conn: sqlite3.Connection) -> tuple[float, float, int]:
    started = time.perf_counter()
    response = await ds.client.get(f"/{db}/articles.csv?_stream=on&_size=max")
    served = time.perf_counter() - started
    rows = sum(1 for _ in csv.reader(io.StringIO(response.text))) - 1
    started = time.perf_counter()
    cursor = conn.execute("select * from articles order by id")
    writer = csv.writer(io.StringIO())
    writer.writerow([c[0] for c in cursor.description])
    for row in cursor:
        writer.writerow(row)
    return served, time.perf_counter() - started, rows


async def run(db_path: Path) -> None:
    metadata = load_metadata(db_path)
    db = db_path.stem
    queries = sorted(metadata["databases"][db].get("queries", {}))
    ds = Datasette([str(db_path)], metadata=metadata, settings=SETTINGS, immutables=[])
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.create_function("escape_fts", 1, escape_fts)
    count = conn.execute("select count(*) from articles").fetchone()[0]
    print(
        f"# {count:,} articles, {db_path.stat().st_size / 1e6:,.0f} MB; {platform.processor() or platform.machine()}, "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; median of {RUNS} runs"
    )
    print("| page | Datasette ms | raw SQL ms | ratio | full scans |\n|---|---|---|---|---|")
    busiest = conn.execute("select outlet_id from articles group by outlet_id order by count(*) desc limit 1").fetchone()[0]
    canned_queries = metadata["databases"][db].get("queries", {})
    for name, path in pages(db, queries, busiest):
        canned = canned_queries.get(name.removeprefix("canned: ")) if name.startswith("canned: ") else None
        served, statements, traced = await datasette_case(ds, path, canned)
        raw = raw_case(conn, statements)
        timed_out = traced.get("facets_timed_out") or []
        scans = "; ".join(full_scans(conn, statements)) or "none"
        note = f" (facets timed out: {', '.join(timed_out)})" if timed_out else ""
        print(f"| {name}{note} | {served * 1000:.1f} | {raw * 1000:.1f} | {served / raw:.2f} | {scans} |")
    served, raw, rows = await csv_case(ds, db, conn)
    print(
        f"| CSV stream, whole articles table ({rows:,} rows) | {served * 1000:.0f} | {raw * 1000:.0f} | {served / raw:.2f} | (one pass) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="an archive, e.g. from benchmarks/synthetic_archive.py")
    args = parser.parse_args()
    asyncio.run(run(args.db))


if __name__ == "__main__":
    main()
