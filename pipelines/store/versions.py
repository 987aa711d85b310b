"""The versions of an article: the texts its URL gave over time (article_versions), numbered in
capture order with the words each changed (pipelines/core/versions.py)."""

from __future__ import annotations

from typing import Any

from pipelines.core.items import FetchedPage
from pipelines.core.stories import sketch
from pipelines.core.topic import Topic
from pipelines.core.versions import captured_at, numbered, takes_article_place
from pipelines.store.articles import Articles, _article_row
from pipelines.store.tables import utc_now

# The article's own text as version 1, when its URL first gives another text.
ARTICLE_AS_VERSION = (
    "INSERT INTO article_versions (article_id, version, capture_id, captured_at, title, published_at, modified_at, "
    "text, word_count, text_sha256, words_added, words_removed, added_at, crawl_run_id) "
    "SELECT a.id, 1, a.capture_id, coalesce(c.archived_at, c.fetched_at), a.title, a.published_at, a.modified_at, "
    "a.text, a.word_count, a.text_sha256, 0, 0, :added_at, a.crawl_run_id "
    "FROM articles a JOIN captures c ON c.id = a.capture_id WHERE a.id = :article_id"
)


class Versions(Articles):
    """The table article_versions; a version that takes the article's place rewrites its row (articles.py)."""

    def version_by_text(self, article_id: int, text_sha256: str) -> dict[str, Any] | None:
        return self.row(
            "SELECT id, version FROM article_versions WHERE article_id = ? AND text_sha256 = ?", (article_id, text_sha256)
        )

    def body_shown(self, article_id: int, content_sha256: str) -> bool:
        """The article's URL gave these very bytes before: its own capture's, or a version's."""
        return (
            self.row(
                "SELECT 1 AS shown FROM captures WHERE content_sha256 = :body AND id IN ("
                "SELECT capture_id FROM articles WHERE id = :article UNION "
                "SELECT capture_id FROM article_versions WHERE article_id = :article)",
                {"body": content_sha256, "article": article_id},
            )
            is not None
        )

    def texts_shown(self, article_id: int) -> list[str]:
        """The texts the article's URL gave: the article's own, then its versions'."""
        return [
            text
            for (text,) in self.conn.execute(
                "SELECT text FROM articles WHERE id = :article UNION ALL "
                "SELECT text FROM article_versions WHERE article_id = :article",
                {"article": article_id},
            )
        ]

    def add_version(self, page: FetchedPage, article_id: int, topic: Topic) -> None:
        """The page is the article's URL with a text not seen there before: record it as a version,
        in one transaction. The first time, the article's own text becomes version 1 beside it.

        The article's row (its text, search entry, mentions, story) holds the earliest captured
        version (pipelines.core.versions.takes_article_place). Versions are numbered in capture
        order, each with the words it added and removed against the one before."""
        with self.transaction():
            if not self.row("SELECT 1 AS found FROM article_versions WHERE article_id = ?", (article_id,)):
                self.conn.execute(ARTICLE_AS_VERSION, {"article_id": article_id, "added_at": utc_now()})
            self.db["article_versions"].insert(_version_row(page, article_id))
            current = self.row(
                "SELECT coalesce(c.archived_at, c.fetched_at) AS captured_at FROM articles a "
                "JOIN captures c ON c.id = a.capture_id WHERE a.id = ?",
                (article_id,),
            )
            if takes_article_place(
                captured_at(page), current["captured_at"], self.article_by_text(page.article.text_sha256) is not None
            ):
                self._take_text_of(page, article_id, topic)
            self._number_versions(article_id)

    def _take_text_of(self, page: FetchedPage, article_id: int, topic: Topic) -> None:
        """The article's row takes the page's text and metadata; it keeps its id and its story
        (the versions of one article are one story), which it may now lead."""
        row = _article_row(page, topic)
        for kept in ("added_at", "url"):
            del row[kept]
        self.db["articles"].update(article_id, row)
        self.replace_matches(article_id, page)
        self.conn.execute("DELETE FROM text_sketches WHERE article_id = ?", (article_id,))
        self.db["text_sketches"].insert_all({"article_id": article_id, "hash": h} for h in sketch(page.article.text))
        story = self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))
        if story["story_id"] is not None:
            self.lead_story(story["story_id"])

    def _number_versions(self, article_id: int) -> None:
        rows = self.conn.execute(
            "SELECT id, text FROM article_versions WHERE article_id = ? ORDER BY captured_at, id", (article_id,)
        ).fetchall()
        numbers = numbered([text for _, text in rows])
        self.conn.executemany(
            "UPDATE article_versions SET version = ?, words_added = ?, words_removed = ? WHERE id = ?",
            [(number, added, removed, version_id) for (version_id, _), (number, added, removed) in zip(rows, numbers)],
        )


def _version_row(page: FetchedPage, article_id: int) -> dict[str, Any]:
    article = page.article
    return {
        "article_id": article_id,
        "version": 0,  # numbered once inserted
        "capture_id": page.capture_id,
        "captured_at": captured_at(page),
        "title": article.title,
        "published_at": article.published.value,
        "modified_at": article.published.modified,
        "text": article.text,
        "word_count": article.word_count,
        "text_sha256": article.text_sha256,
        "words_added": 0,
        "words_removed": 0,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }
