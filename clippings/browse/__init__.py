"""The archive in a browser: a Datasette plugin for coverage charts, search in context, a
reading view of each article, a generated datasheet, and a robots.txt that keeps crawlers off.

Registered as the `clippings` Datasette plugin (pyproject entry point), so `clippings serve`
and plain `datasette archive.db -m metadata.yml` both have it. Pages of databases that are not
clippings archives are left as Datasette renders them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from clippings.browse.coverage import chart_links, coverage_response
from clippings.browse.csvexport import asgi_wrapper  # noqa: F401  (a hook: the plugin is this module)
from clippings.browse.facets import CoverageFacet, PersonFacet
from clippings.browse.memory import HEAP_EXHAUSTED, bound_connection, memory_limit_mb
from clippings.datasheet import datasheet, is_archive
from pipelines.core.canonical import web_url

MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # never in page text; replaced by <mark> after escaping
ROBOTS_TXT = "User-agent: *\nDisallow: /\n"
WAYBACK = "https://web.archive.org/web/{timestamp}/{url}"
COVERAGE_EXPORT = r"^/(?P<database>[^/]+)/articles/-/coverage\.(?P<format>csv|svg)$"


@hookimpl
def register_facet_classes():
    return [PersonFacet, CoverageFacet]


@hookimpl
def startup(datasette):
    memory_limit_mb(datasette.plugin_config("clippings"))  # a bad setting stops the server here, not each query


@hookimpl
def prepare_connection(conn, database, datasette):
    bound_connection(conn, memory_limit_mb(datasette.plugin_config("clippings")))


@hookimpl
def handle_exception(datasette, request, exception):
    """SQLite out of memory under the bound (clippings.browse.memory): a 400 saying so."""
    if not isinstance(exception, MemoryError):
        return None
    from datasette.handle_exception import handle_exception as error_page
    from datasette.views.base import DatasetteError

    message = HEAP_EXHAUSTED.format(mb=memory_limit_mb(datasette.plugin_config("clippings")))
    return error_page(datasette, request, DatasetteError(message, title="Query needs too much memory", status=400))


@hookimpl
def register_routes():
    return [(r"^/robots\.txt$", robots_txt), (COVERAGE_EXPORT, coverage_export)]


async def robots_txt(datasette, request):
    """A research archive names private people: keep search engines and crawlers off it."""
    config = datasette.plugin_config("clippings") or {}
    return Response.text(config.get("robots_txt", ROBOTS_TXT))


@hookimpl
def extra_template_vars(template, database, table, request, datasette):
    async def inner() -> dict[str, Any]:
        if template == "index.html":
            return {"clippings_datasheets": await archive_datasheets(datasette)}
        if database is None or not await _is_archive(datasette, database):
            return {}
        db = datasette.get_database(database)
        found = {"clippings_archive": True}
        if template == "table.html" and table == "articles":
            search = request.args.get("_search", "").strip() if request else ""
            found.update(
                clippings_chart=chart_links(datasette, database, request),
                clippings_snippets=_snippet_function(db, search) if search else None,
            )
        if template == "row.html" and table == "articles":
            found["clippings_article"] = await _article(db, request.url_vars.get("pks", ""))
        return found

    return inner


@hookimpl
def extra_js_urls(template, database, table, datasette):
    async def inner() -> list[dict[str, Any]]:
        if template not in ("table.html", "row.html") or not table or not await _is_archive(datasette, database):
            return []
        scripts = ["pages.js"]  # column descriptions as header tooltips, the raw row folded
        if template == "table.html" and table == "articles":
            scripts.append("coverage.js")
        return [{"url": datasette.urls.static_plugins("clippings", name), "module": False} for name in scripts]

    return inner


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.static_plugins("clippings", "clippings.css")]


@hookimpl
def render_cell(value, column, table, database, datasette):
    """In query results, the search query's **match** marks become highlights (after escaping)."""
    if table is None and column in ("title", "snippet") and isinstance(value, str) and "**" in value:
        return Markup(re.sub(r"\*\*(.+?)\*\*", r"<mark>\1</mark>", str(escape(value))))
    return None


async def _is_archive(datasette, database: str) -> bool:
    try:
        db = datasette.get_database(database)
    except KeyError:
        return False
    return await db.execute_fn(is_archive)


async def archive_datasheets(datasette) -> list[dict[str, Any]]:
    """The datasheet of each archive Datasette serves, for the home page."""
    sheets = []
    for name, db in datasette.databases.items():
        if name.startswith("_") or not await _is_archive(datasette, name):
            continue
        sheets.append({"database": name, **await db.execute_fn(datasheet)})
    return sheets


async def coverage_export(datasette, request):
    """/DB/articles/-/coverage.csv and .svg (clippings.browse.coverage)."""
    database = tilde_decode(request.url_vars["database"])
    if database not in datasette.databases or not await _is_archive(datasette, database):
        raise NotFound(f"no clippings archive named {database}")
    return await coverage_response(datasette, request, database, request.url_vars["format"])


def _snippet_function(db, search: str):
    """An async function the template calls with the page's rows: {id: highlighted passage}."""
    terms = " ".join(f'"{t}"' for t in search.replace('"', " ").split())

    async def snippets(rows) -> dict[int, Markup]:
        ids = [row["id"] for row in rows]
        if not ids or not terms:
            return {}
        placeholders = ",".join("?" for _ in ids)
        results = await db.execute(
            f"SELECT rowid, snippet(articles_fts, 1, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 30) AS passage "
            f"FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({placeholders})",
            [terms, *ids],
        )
        return {row["rowid"]: _highlighted(row["passage"]) for row in results.rows}

    return snippets


def _highlighted(passage: str) -> Markup:
    text = str(escape(passage))
    return Markup(text.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


async def _article(db, pks: str) -> dict[str, Any] | None:
    """What the reading view shows: text in paragraphs, dates with provenance, links, copies,
    and the versions its URL gave (updates, corrections)."""
    try:
        article_id = int(pks)
    except ValueError:
        return None
    found = await db.execute(
        "SELECT a.*, o.name AS outlet_name, c.fetched_at, c.archived_at, c.source AS capture_source, c.url AS fetched_url "
        "FROM articles a LEFT JOIN outlets o ON o.id = a.outlet_id LEFT JOIN captures c ON c.id = a.capture_id "
        "WHERE a.id = ?",
        [article_id],
    )
    row = found.first()
    if row is None:
        return None
    article = dict(row)
    copies = await db.execute(
        "SELECT c.url, c.title, c.published_day, c.relation, o.name AS outlet_name FROM copies c "
        "LEFT JOIN outlets o ON o.id = c.outlet_id WHERE c.article_id = ? ORDER BY c.published_day, c.url",
        [article_id],
    )
    versions = await db.execute(
        "SELECT v.id, v.version, v.captured_at, v.modified_at, v.word_count, v.words_added, v.words_removed, "
        "v.capture_id, v.text_sha256 = a.text_sha256 AS is_article_text "
        "FROM article_versions v JOIN articles a ON a.id = v.article_id WHERE v.article_id = ? ORDER BY v.version",
        [article_id],
    )
    article["versions"] = [dict(v) for v in versions.rows]
    article["paragraphs"] = [p for p in (article["text"] or "").split("\n") if p.strip()]
    article["authors"] = json.loads(article["authors"] or "[]")
    article["people"] = json.loads(article["people"] or "[]")
    article["keywords"] = json.loads(article["keywords"] or "[]")
    article["date_candidates"] = json.loads(article["date_candidates"] or "[]")
    article["copies"] = [{**dict(c), "link": web_url(c["url"])} for c in copies.rows]
    article["link"] = web_url(article["url"])
    article["wayback_url"] = wayback_url(article["url"], article["archived_at"] or article["fetched_at"])
    return article


def wayback_url(url: str, captured_at: str | None) -> str | None:
    """The Wayback Machine's copy nearest to the capture time (it redirects to the closest one);
    None for a URL that is not an http(s) address."""
    if not web_url(url):
        return None
    timestamp = re.sub(r"\D", "", captured_at or "")[:14]
    return WAYBACK.format(timestamp=timestamp or "*", url=url)
