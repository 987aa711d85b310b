"""The coverage chart's data and files: articles per publication day and outlet for the rows an
articles page shows, as CSV and as the chart's SVG, at /DB/articles/-/coverage.csv and .svg with
the page's own query string. The counts come from CoverageFacet over the table's filter SQL.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette.utils.asgi import Response

from clippings.browse.chart import DayCount, coverage_svg

# Query-string parameters that select the rows of a table page; the others (paging, columns,
# shapes, facets) do not change which articles the chart counts.
ROW_FILTERS = re.compile(r"^([^_].*|_search(_.+)?|_where|_through|_fts_table|_fts_pk)$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An SVG opened on its own runs with the site's origin: it may hold no script, whatever it says.
SVG_HEADERS = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'", "x-content-type-options": "nosniff"}


def row_filters(query_string: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if ROW_FILTERS.match(k)]


def chart_links(datasette, database: str, request) -> dict[str, str]:
    """Where the chart of the page's rows and the counts behind it are: same filters, own URL."""
    filters = urlencode(row_filters(request.query_string if request else ""))
    base = f"{datasette.urls.table(database, 'articles')}/-/coverage"
    return {kind: f"{base}.{kind}" + (f"?{filters}" if filters else "") for kind in ("csv", "svg")}


async def coverage_response(datasette, request, database: str, kind: str) -> Response:
    """The counts (kind "csv") or the chart ("svg") for the articles the request's filters select."""
    query = urlencode(
        [*row_filters(request.query_string), ("_facet_coverage", "published_day"), ("_size", "0"), ("_nosuggest", "1")]
    )
    answer = await datasette.client.get(
        f"{datasette.urls.table(database, 'articles', format='json')}?{query}", cookies=request.cookies
    )
    data = answer.json()
    if answer.status_code != 200:
        return Response.text(
            f"The coverage could not be counted: {data.get('error', answer.status_code)}\n", status=answer.status_code
        )
    if "coverage" not in data.get("facet_results", {}):
        return Response.text("Counting the coverage took longer than the time limit: narrow the filters.\n", status=503)
    results = data["facet_results"]["coverage"]["results"]
    if kind == "csv":
        return Response(
            _csv(results),
            content_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="coverage.csv"'},
        )
    counts = [DayCount(r["day"], r["outlet"], r["count"]) for r in results if DAY.match(str(r["day"]))]
    title = "Articles per publication day" + (f", {selection}" if (selection := _selection(data)) else "")
    return Response(coverage_svg(counts, title), content_type="image/svg+xml; charset=utf-8", headers=SVG_HEADERS)


def _selection(data: dict[str, Any]) -> str:
    """Which articles the table's JSON holds, in Datasette's words, without its sort order."""
    return re.sub(r"\s*sorted by .*$", "", data.get("human_description_en") or "").strip()


def _csv(results: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "outlet_id", "outlet", "articles"])
    writer.writerows([r["day"], r["outlet_id"], r["outlet"], r["count"]] for r in results)
    return out.getvalue()
