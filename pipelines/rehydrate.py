"""Restore a public release's texts from refetched pages, checked against the stored hashes."""

from __future__ import annotations

import sqlite3

from scrapy.crawler import Crawler

from pipelines.extraction import NotAnArticle, extract_article

REHYDRATIONS = """
CREATE TABLE IF NOT EXISTS rehydrations (
    article_id INTEGER PRIMARY KEY REFERENCES articles(id),
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    fetched_from TEXT NOT NULL,
    detail TEXT
);
"""


class RehydratePipeline:
    """Same text (same SHA-256) -> restored; different -> reported as changed, not restored."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.release_path = crawler.settings["RELEASE_PATH"]
        self.conn: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.conn = sqlite3.connect(self.release_path, isolation_level=None)
        self.conn.executescript(REHYDRATIONS)

    def close_spider(self) -> None:
        self.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        self.conn.close()

    def process_item(self, item):
        status, detail, text = self.check(item)
        with self.conn:
            if text is not None:
                self.conn.execute("UPDATE articles SET text = ? WHERE id = ?", (text, item.article_id))
            self.conn.execute(
                "INSERT OR REPLACE INTO rehydrations VALUES (?, ?, ?, ?, ?)",
                (item.article_id, item.url, status, item.fetched_from, detail),
            )
        self.crawler.stats.inc_value(f"rehydrate/{status}")
        return item

    def check(self, item) -> tuple[str, str | None, str | None]:
        if item.error:
            return "failed", item.error, None
        try:
            article = extract_article(item.body, item.url, min_words=0)
        except NotAnArticle as reason:
            return "failed", str(reason), None
        if article.text_sha256 != item.text_sha256:
            return "changed", "the page's text differs from the archived one (hash mismatch)", None
        return "restored", None, article.text
