"""A person facet counted through the indexed `mentions` table instead of the `people` JSON array.

Datasette's array facet de-duplicates whole rows (article text included) for every value of
the array: on 200,000 articles it ran past the time limit (BENCHMARKS.md). This facet counts
(article, person) pairs in `mentions` for the rows the page shows, and its links filter with
Datasette's own `_through` (an index lookup in `mentions`), not `people__arraycontains` (a scan).
"""

from __future__ import annotations

import json

from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import path_with_added_args, path_with_removed_args


class ArticlesFacet(Facet):
    """A facet of the articles table: never suggested; each configuration runs one query over the
    rows the page shows and gives one result (or a time-out)."""

    facet_time_limit = True  # Datasette's facet_time_limit_ms; else its sql_time_limit_ms

    async def suggest(self):
        return []

    async def facet_results(self):
        results, timed_out = [], []
        if self.table != "articles":
            return results, timed_out
        for config in self.get_configs():
            name = self.result_name(config)
            try:
                rows = await self.ds.execute(
                    self.database,
                    self.count_sql(),
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms") if self.facet_time_limit else None,
                )
            except QueryInterrupted:
                timed_out.append(name)
                continue
            results.append(
                {"name": name, "type": self.type, "hideable": config["source"] != "metadata", **self.result(config, rows)}
            )
        return results, timed_out

    def result_name(self, config: dict) -> str:
        return config["config"]["simple"]

    def count_sql(self) -> str:
        raise NotImplementedError

    def result(self, config: dict, rows) -> dict:
        raise NotImplementedError


class PersonFacet(ArticlesFacet):
    """Configured as {"person": "people"} in metadata.yml, or ?_facet_person=people."""

    type = "person"

    def count_sql(self) -> str:
        return (
            "select p.id as id, p.name as value, count(*) as count from mentions m "
            "join people p on p.id = m.person_id "
            f"where m.article_id in (select id from ({self.sql})) "
            f"group by p.id order by count desc, p.name limit {self.get_facet_size() + 1}"
        )

    def result(self, config: dict, rows) -> dict:
        size, name = self.get_facet_size(), config["config"]["simple"]
        return {
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_person": name})),
            "truncated": len(rows) > size,
            "results": [self._value(row) for row in rows.rows[:size]],
        }

    def _value(self, row) -> dict:
        through = json.dumps({"table": "mentions", "column": "person_id", "value": row["id"]}, separators=(",", ":"))
        selected = ("_through", through) in self.get_querystring_pairs()
        change = path_with_removed_args if selected else path_with_added_args
        return {
            "value": row["id"],
            "label": row["value"],
            "count": row["count"],
            "selected": selected,
            "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(change(self.request, {"_through": through}))),
        }


class CoverageFacet(ArticlesFacet):
    """Articles per publication day and outlet, for the rows the page shows (every filter and
    search applies): the coverage chart's data. Asked for as ?_facet_coverage=published_day;
    clippings.browse's coverage.csv and coverage.svg ask for it on the articles JSON."""

    type = "coverage"
    facet_time_limit = False  # the chart needs every count, within the query's own limit

    def result_name(self, config: dict) -> str:
        return "coverage"

    def count_sql(self) -> str:
        return (
            "select a.published_day as day, a.outlet_id as outlet_id, coalesce(o.name, a.outlet_id, 'unknown outlet') "
            "as outlet, count(*) as articles from articles a left join outlets o on o.id = a.outlet_id "
            f"where a.id in (select id from ({self.sql})) and a.published_day is not null "
            "group by a.published_day, a.outlet_id order by day, outlet"
        )

    def result(self, config: dict, rows) -> dict:
        return {
            "toggle_url": self.ds.urls.path(
                path_with_removed_args(self.request, {"_facet_coverage": config["config"]["simple"]})
            ),
            "truncated": False,
            "results": [self._value(row) for row in rows.rows],
        }

    def _value(self, row) -> dict:
        filters = {"published_day": row["day"], "outlet_id": row["outlet_id"] or ""}
        return {
            "value": f"{row['day']} {row['outlet_id']}",
            "label": f"{row['day']} · {row['outlet']}",
            "count": row["articles"],
            "day": row["day"],
            "outlet_id": row["outlet_id"],
            "outlet": row["outlet"],
            "selected": False,
            "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path_with_added_args(self.request, filters))),
        }
