"""Restore a public release's texts from refetched pages, checked against the stored hashes."""

from __future__ import annotations

import hashlib
import sqlite3

from scrapy.crawler import Crawler

from pipelines.core.extraction import NotAnArticle, extract_article, normalised_text

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
    """Same text (same SHA-256) -> restored; different -> reported as changed, not restored,
    unless it is one of the article's versions: then that version's text is restored."""

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
        # a release made before article_versions existed has none to restore
        self.has_versions = self._has_table("article_versions")
        # a data package is rehydrated through a scratch file that has no search index
        self.has_search = self._has_table("articles_fts")

    def close_spider(self) -> None:
        if self.has_search:
            self.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        self.conn.close()

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None

    def process_item(self, item):
        status, detail, text = self.check(item)
        with self.conn:
            if text is not None and status == "restored":
                self.conn.execute("UPDATE articles SET text = ? WHERE id = ?", (text, item.article_id))
            if text is not None and self.has_versions:  # the article's own text is its version 1, if it has versions
                self.conn.execute(
                    "UPDATE article_versions SET text = ? WHERE article_id = ? AND text_sha256 = ?",
                    (text, item.article_id, _sha256_of(text)),
                )
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
        if article.text_sha256 == item.text_sha256:
            return "restored", None, article.text
        version = (
            self.has_versions
            and self.conn.execute(
                "SELECT version FROM article_versions WHERE article_id = ? AND text_sha256 = ?",
                (item.article_id, article.text_sha256),
            ).fetchone()
        )
        if version:
            return "changed", f"the page shows version {version[0]} of the article: restored in article_versions", article.text
        return "changed", "the page's text differs from the archived one (hash mismatch)", None


def _sha256_of(text: str) -> str:
    return hashlib.sha256(normalised_text(text).encode()).hexdigest()
