"""Fetch every article URL of a public release again (live, or the Wayback Machine's copy) to restore its text."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure


@dataclass
class RehydratedPage:
    article_id: int
    url: str
    text_sha256: str
    fetched_from: str
    body: bytes = field(repr=False, default=b"")
    error: str | None = None


class RehydrateSpider(scrapy.Spider):
    """Reads the release named by RELEASE_PATH; writes nothing itself (crawlers.rehydration does)."""

    name = "rehydrate"
    custom_settings = {
        "ITEM_PIPELINES": {"crawlers.rehydration.RehydratePipeline": 100},
        "EXTENSIONS": {"crawlers.extensions.CrawlLog": None, "crawlers.extensions.ProgressDisplay": None},
    }

    async def start(self):
        for article in self.articles():
            yield scrapy.Request(
                article["url"],
                callback=self.parse_article,
                errback=self.live_failed,
                cb_kwargs={"article": article, "source": "live"},
                dont_filter=True,
            )

    def articles(self) -> list[dict]:
        conn = sqlite3.connect(f"file:{self.settings['RELEASE_PATH']}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [
                dict(r)
                for r in conn.execute(
                    "SELECT a.id, a.url, a.text_sha256, coalesce(c.archived_at, c.fetched_at) AS captured_at "
                    "FROM articles a LEFT JOIN captures c ON c.id = a.capture_id ORDER BY a.id"
                )
            ]
        finally:
            conn.close()

    def parse_article(self, response: Response, article: dict, source: str):
        yield RehydratedPage(article["id"], response.url, article["text_sha256"], source, body=response.body)

    def live_failed(self, failure: Failure):
        """The live page is gone: try the web archive's copy nearest to our capture."""
        article = failure.request.cb_kwargs["article"]
        if not self.settings.getbool("REHYDRATE_FROM_WAYBACK"):
            yield self.failure(article, "live", failure)
            return
        timestamp = re.sub(r"\D", "", article["captured_at"] or "")[:14]
        url = self.settings["WAYBACK_REPLAY_URL"].format(timestamp=timestamp, url=article["url"])
        yield scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.wayback_failed,
            cb_kwargs={"article": article, "source": "wayback"},
            dont_filter=True,
        )

    def wayback_failed(self, failure: Failure):
        yield self.failure(failure.request.cb_kwargs["article"], "wayback", failure)

    def failure(self, article: dict, source: str, failure: Failure) -> RehydratedPage:
        response = getattr(failure.value, "response", None)
        error = f"HTTP {response.status}" if response is not None else f"{failure.type.__name__}: {failure.getErrorMessage()}"
        return RehydratedPage(article["id"], article["url"], article["text_sha256"], source, error=error)
