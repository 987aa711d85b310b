"""The archive described the way a methods section would, computed from the archive itself."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from typing import Any

import yaml

from pipelines.core.thresholds import SETTING_NAMES
from pipelines.store.schema import APPLICATION_ID


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
        "crawl_period": _row(
            conn, "SELECT min(started_at) AS first, max(coalesce(finished_at, started_at)) AS last FROM crawl_runs"
        ),
        # A run without a user agent fetched nothing from the web (a re-extraction): no robots.txt to obey.
        "user_agents": [
            r["user_agent"]
            for r in _rows(conn, "SELECT DISTINCT user_agent FROM crawl_runs WHERE user_agent != '' ORDER BY user_agent")
        ],
        "robots": _rows(conn, "SELECT robots_obey, count(*) AS runs FROM crawl_runs WHERE user_agent != '' GROUP BY robots_obey"),
        "extractors": _rows(conn, "SELECT extractor, count(*) AS articles FROM articles GROUP BY extractor ORDER BY extractor"),
        "date_sources": _rows(
            conn, "SELECT published_source, count(*) AS articles FROM articles GROUP BY published_source ORDER BY articles DESC"
        ),
        "settings": _settings(conn),
        "gaps": _gaps(conn),
    }


def _settings(conn: sqlite3.Connection) -> dict[str, Any]:
    """The settings the runs applied (crawl_runs.settings): each setting with its values and how
    many runs used each, the research thresholds first; and how many runs recorded none (runs
    of an older clippings)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(crawl_runs)")}
    recorded = [row[0] for row in conn.execute("SELECT settings FROM crawl_runs")] if "settings" in columns else []
    values: dict[str, Counter] = defaultdict(Counter)
    unrecorded = conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] - len(recorded)
    for text in recorded:
        try:
            settings = json.loads(text) if text else None
        except ValueError:
            settings = None
        if not isinstance(settings, dict):
            unrecorded += 1
            continue
        for name, value in settings.items():
            values[name][json.dumps(value)] += 1
    thresholds = list(SETTING_NAMES.values())
    order = thresholds + sorted(set(values) - set(thresholds))
    return {
        "settings": [
            {
                "name": name,
                "threshold": name in thresholds,
                "values": [{"value": json.loads(v), "runs": n} for v, n in values[name].most_common()],
            }
            for name in order
            if name in values
        ],
        "runs_without_settings": unrecorded,
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
        topics.append(
            {
                "name": row["name"],
                "title": row["title"],
                "sha256": row["sha256"],
                "window": (row["window_start"], row["window_end"]),
                "description": str(spec.get("description") or "").strip(),
                "keywords": list(spec.get("keywords") or []),
                "people_by_role": dict(sorted(roles.items())),
                "relevance": spec.get("relevance") or {},
            }
        )
    return topics


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = ("articles", "copies", "captures", "outlets", "people", "mentions", "rejects", "fetch_failures", "crawl_runs")
    counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables}
    counts["updated_articles"], counts["article_versions"] = (
        conn.execute("SELECT count(DISTINCT article_id), count(*) FROM article_versions").fetchone()
        if _has_table(conn, "article_versions")
        else (0, 0)
    )  # archives from before the migration
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
        "outlets_without_articles": [
            r["name"]
            for r in _rows(
                conn,
                "SELECT name FROM outlets WHERE id NOT IN (SELECT outlet_id FROM articles WHERE outlet_id IS NOT NULL) ORDER BY name",
            )
        ],
        "days_without_articles": empty_days,
        "window": window,
        "failures": _rows(conn, "SELECT error, count(*) AS urls FROM fetch_failures GROUP BY error ORDER BY urls DESC LIMIT 10"),
        "rejects": _rows(conn, "SELECT stage, count(*) AS pages FROM rejects GROUP BY stage ORDER BY pages DESC"),
    }


def datasheet_markdown(sheet: dict[str, Any]) -> str:
    """The datasheet as Markdown (a data package's README), as the archive's home page shows it.
    Every value is escaped: outlet names, errors and topic text are data, never markup or links."""
    lines = ["## Datasheet", "", "Generated from the archive and the topic file it was built with.", ""]
    for topic in sheet["topics"]:
        lines += _topic_markdown(topic)
    counts = sheet["counts"]
    lines += [
        "### What is in it",
        "",
        f"{counts['articles']} articles ({counts['updated_articles']} of them updated after their first capture, "
        f"with {counts['article_versions']} versions in all), {counts['copies']} linked copies, {counts['captures']} "
        f"captures from {counts['outlets']} outlets; {counts['rejects']} fetched pages rejected (with reasons), "
        f"{counts['fetch_failures']} URLs that could not be fetched.",
        "",
        "| outlet | country | language | articles | copies | captures | first day | last day |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in sheet["by_outlet"]:
        cells = (o["name"], o["country"], o["language"], o["articles"], o["copies"], o["captures"], o["first_day"], o["last_day"])
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines += [
        "",
        "Articles by source: " + _listed((s["source"], s["articles"]) for s in sheet["by_source"]) + ".",
        "Dates from: " + _listed((d["published_source"], d["articles"]) for d in sheet["date_sources"]) + ".",
        "",
    ]
    lines += _collection_markdown(sheet) + _settings_markdown(sheet["settings"]) + _gaps_markdown(sheet["gaps"])
    return "\n".join(lines) + "\n"


def _topic_markdown(topic: dict[str, Any]) -> list[str]:
    people = ", ".join(f"{n} {_md(role)}" for role, n in topic["people_by_role"].items())
    relevance = ", ".join(f"{_md(k)} {_md(v)}" for k, v in topic["relevance"].items())
    return [
        f"### Topic: {_md(topic['title'])}",
        "",
        _md(topic["description"]),
        "",
        f"Window: {topic['window'][0]} to {topic['window'][1]}. Keywords and hashtags ({len(topic['keywords'])}): "
        f"{', '.join(_md(k) for k in topic['keywords'])}. People: {people}. Relevance rule: {relevance}. "
        f"Topic file SHA-256 {topic['sha256']}.",
        "",
    ]


def _collection_markdown(sheet: dict[str, Any]) -> list[str]:
    runs = [
        f"The {_md(s['spider'])} spider ran {s['runs']} time(s) between {_md(s['first'])} and {_md(s['last'])} "
        f"and fetched {s['pages'] or 0} pages."
        for s in sheet["spiders"]
    ]
    robots = "; ".join(f"{'obeyed' if r['robots_obey'] else 'NOT obeyed'} in {r['runs']} run(s)" for r in sheet["robots"])
    extractors = "; ".join(f"{_md(e['extractor'])} ({e['articles']} articles)" for e in sheet["extractors"])
    period = sheet["crawl_period"]
    return [
        "### How it was collected",
        "",
        " ".join(runs),
        f"Crawls from {_md(period.get('first'))} to {_md(period.get('last'))}. "
        f"User agent: {'; '.join(_md(ua) for ua in sheet['user_agents'])}. robots.txt: {robots or 'no runs'}. "
        f"Extractor: {extractors or 'none'}.",
        "",
    ]


def _settings_markdown(found: dict[str, Any]) -> list[str]:
    lines = [
        "### Settings in force",
        "",
        "The research thresholds (which pages are kept as articles, which are flagged thin, which lines are "
        "dropped as boilerplate, which texts are one story) and the settings given with -s, as each run recorded them.",
        "",
    ]
    for setting in found["settings"]:
        values = setting["values"]
        listed = (
            ", ".join(f"{_md(v['value'])} ({v['runs']} run(s))" for v in values) if len(values) > 1 else _md(values[0]["value"])
        )
        differed = " (the runs used different values)" if len(values) > 1 else ""
        lines.append(f"- {_md(setting['name'])}: {listed}{differed}")
    if found["runs_without_settings"]:
        lines.append(
            f"- {found['runs_without_settings']} run(s) recorded no settings (an older clippings): "
            "the defaults of their version applied, unless overridden."
        )
    return lines + [""]


def _gaps_markdown(gaps: dict[str, Any]) -> list[str]:
    lines = ["### Known gaps", "", f"- {gaps['undated_articles']} undated articles (no trustworthy date on the page)."]
    if gaps["days_without_articles"] is not None:
        window = gaps["window"]
        lines.append(
            f"- {gaps['days_without_articles']} days of the window {window['start']} to {window['end']} "
            "without any archived article."
        )
    if gaps["outlets_without_articles"]:
        lines.append("- Outlets without articles: " + ", ".join(_md(n) for n in gaps["outlets_without_articles"]) + ".")
    lines += [f"- {f['urls']} URL(s) not fetched: {_md(f['error'])}." for f in gaps["failures"]]
    lines += [f"- {r['pages']} page(s) rejected at the {_md(r['stage'])} stage." for r in gaps["rejects"]]
    return lines


def _listed(pairs) -> str:
    return ", ".join(f"{_md(name)} {count}" for name, count in pairs) or "none"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:])")


def _md(value: Any) -> str:
    """Plain text in Markdown: special characters escaped (no links, emphasis or HTML), one line."""
    text = " ".join(str("" if value is None else value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
