"""Coverage: articles per outlet per day, by the sources that saw them, so gaps in a backfill show.

An article keeps the source of its first capture (articles.source), but later captures from
other sources may have seen it too: captures are unique per (url, body, source). A source saw
an article when one of its captures is the article's or a copy's capture, is at the article's
URL (final URL, a trailing slash or not), or holds the very bytes of the article's capture. An
article seen by two sources counts once under each; `articles` counts it once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from pipelines.store.archive import Archive

SOURCES = ("live", "wayback", "commoncrawl", "warc")

# The same text is the canned query `coverage_by_source` in metadata.yml (a test checks).
COVERAGE_SQL = """
WITH sightings AS (
  SELECT a.id AS article_id, c.source FROM articles a JOIN captures c ON c.id = a.capture_id
  UNION SELECT p.article_id, c.source FROM copies p JOIN captures c ON c.id = p.capture_id
  UNION SELECT a.id, c.source FROM articles a
    JOIN captures c ON c.final_url IN (a.url, rtrim(a.url, '/'), rtrim(a.url, '/') || '/')
  UNION SELECT a.id, c.source FROM articles a JOIN captures f ON f.id = a.capture_id
    JOIN captures c ON c.content_sha256 = f.content_sha256
)
SELECT a.outlet_id, a.published_day, s.source, count(DISTINCT a.id) AS articles
FROM sightings s JOIN articles a ON a.id = s.article_id
WHERE a.published_day IS NOT NULL
  AND (:outlet = '' OR a.outlet_id = :outlet)
GROUP BY a.outlet_id, a.published_day, s.source
ORDER BY a.outlet_id, a.published_day, s.source
""".strip()


@dataclass
class OutletCoverage:
    outlet_id: str | None
    days: dict[str, dict[str, int]]  # day -> source -> articles
    totals: dict[str, int]  # day -> articles (each once, whatever saw it)

    def gaps(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """Runs of days between start and end with no article from any source."""
        runs, first = [], None
        day = start
        while day <= end:
            if day.isoformat() in self.days:
                if first is not None:
                    runs.append((first, day - dt.timedelta(days=1)))
                first = None
            elif first is None:
                first = day
            day += dt.timedelta(days=1)
        if first is not None:
            runs.append((first, end))
        return runs


def coverage(archive: Archive, outlet: str | None = None) -> list[OutletCoverage]:
    days: dict[str | None, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for outlet_id, day, source, articles in archive.conn.execute(COVERAGE_SQL, {"outlet": outlet or ""}):
        days[outlet_id][day][source] = articles
    totals: dict[str | None, dict[str, int]] = defaultdict(dict)
    for outlet_id, day, articles in archive.conn.execute(
        "SELECT outlet_id, published_day, count(*) FROM articles WHERE published_day IS NOT NULL "
        "AND (:outlet = '' OR outlet_id = :outlet) GROUP BY outlet_id, published_day",
        {"outlet": outlet or ""},
    ):
        totals[outlet_id][day] = articles
    return [OutletCoverage(o, dict(by_day), totals[o]) for o, by_day in sorted(days.items(), key=lambda i: i[0] or "")]
