"""The archive described the way a methods section would, computed from the archive itself."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

import yaml

from pipelines.schema import APPLICATION_ID


def is_archive(conn: sqlite3.Connection) -> bool:
    return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def datasheet(conn: sqlite3.Connection) -> dict[str, Any]:
    """Topic, sources and how they were searched, counts, crawl dates, policies, versions, gaps."""
    return {
        "topics": _topics(conn),
        "counts": _counts(conn),
        "by_source": _rows(conn, "SELECT source, count(*) AS articles FROM articles GROUP BY source ORDER BY articles DESC"),
        "by_outlet": _by_outlet(conn),
        "spiders": _rows(
            conn,
            "SELECT spider, count(*) AS runs, min(started_at) AS first, max(coalesce(finished_at, started_at)) AS last, "
            "sum(pages_fetched) AS pages FROM crawl_runs GROUP BY spider ORDER BY spider",
        ),
        "crawl_period": _row(conn, "SELECT min(started_at) AS first, max(coalesce(finished_at, started_at)) AS last FROM crawl_runs"),
        "user_agents": [r["user_agent"] for r in _rows(conn, "SELECT DISTINCT user_agent FROM crawl_runs ORDER BY user_agent")],
        "robots": _rows(conn, "SELECT robots_obey, count(*) AS runs FROM crawl_runs GROUP BY robots_obey"),
        "extractors": _rows(conn, "SELECT extractor, count(*) AS articles FROM articles GROUP BY extractor ORDER BY extractor"),
        "date_sources": _rows(conn, "SELECT published_source, count(*) AS articles FROM articles GROUP BY published_source ORDER BY articles DESC"),
        "gaps": _gaps(conn),
    }


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _row(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> dict[str, Any]:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else {}


def _topics(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    topics = []
    for row in _rows(conn, "SELECT * FROM topics ORDER BY first_used_at"):
        spec = yaml.safe_load(row["yaml"]) or {}
        roles: dict[str, int] = defaultdict(int)
        for person in spec.get("people") or []:
            roles[person.get("role", "?")] += 1
        topics.append({
            "name": row["name"], "title": row["title"], "sha256": row["sha256"],
            "window": (row["window_start"], row["window_end"]),
            "description": str(spec.get("description") or "").strip(),
            "keywords": list(spec.get("keywords") or []),
            "people_by_role": dict(sorted(roles.items())),
            "relevance": spec.get("relevance") or {},
        })
    return topics


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = ("articles", "copies", "captures", "outlets", "people", "mentions", "rejects", "fetch_failures", "crawl_runs")
    counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables}
    counts["updated_articles"], counts["article_versions"] = conn.execute(
        "SELECT count(DISTINCT article_id), count(*) FROM article_versions"
    ).fetchone() if _has_table(conn, "article_versions") else (0, 0)  # archives from before the migration
    return counts


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _by_outlet(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return _rows(
        conn,
        "SELECT o.id, o.name, o.country, o.language, "
        "(SELECT count(*) FROM articles a WHERE a.outlet_id = o.id) AS articles, "
        "(SELECT count(*) FROM copies c WHERE c.outlet_id = o.id) AS copies, "
        "(SELECT count(*) FROM captures p WHERE p.outlet_id = o.id) AS captures, "
        "(SELECT min(published_day) FROM articles a WHERE a.outlet_id = o.id) AS first_day, "
        "(SELECT max(published_day) FROM articles a WHERE a.outlet_id = o.id) AS last_day "
        "FROM outlets o ORDER BY articles DESC, o.name",
    )


def _gaps(conn: sqlite3.Connection) -> dict[str, Any]:
    """What a reader of the dataset should know is missing or uncertain."""
    window = _row(conn, "SELECT min(window_start) AS start, max(window_end) AS end FROM topics")
    empty_days = None
    if window.get("start"):
        empty_days = conn.execute(
            "WITH RECURSIVE days(day) AS (SELECT date(?) UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < date(?)) "
            "SELECT count(*) FROM days WHERE day NOT IN (SELECT published_day FROM articles WHERE published_day IS NOT NULL)",
            (window["start"], window["end"]),
        ).fetchone()[0]
    return {
        "undated_articles": conn.execute("SELECT count(*) FROM articles WHERE published_day IS NULL").fetchone()[0],
        "outlets_without_articles": [r["name"] for r in _rows(conn, "SELECT name FROM outlets WHERE id NOT IN (SELECT outlet_id FROM articles WHERE outlet_id IS NOT NULL) ORDER BY name")],
        "days_without_articles": empty_days,
        "window": window,
        "failures": _rows(conn, "SELECT error, count(*) AS urls FROM fetch_failures GROUP BY error ORDER BY urls DESC LIMIT 10"),
        "rejects": _rows(conn, "SELECT stage, count(*) AS pages FROM rejects GROUP BY stage ORDER BY pages DESC"),
    }
