"""The articles (one per canonical URL, the earliest-published copy of its text), their copies
elsewhere, the people and keywords each mentions, and the outlets' line counts that find their
boilerplate. The rules are the core's: which lines count (pipelines/core/extraction.py), which
copy is the article (pipelines/store/pages.py)."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.extraction import line_fingerprints, repeated_lines
from pipelines.core.items import FetchedPage
from pipelines.core.stories import sketch
from pipelines.core.topic import Topic
from pipelines.store.stories import Stories
from pipelines.store.tables import utc_now

# What extracting a capture again may change in its article; the rest (id, URL, capture,
# outlet, source, when and by which run it was added, its story) stays.
REEXTRACTED_COLUMNS = (
    "title",
    "authors",
    "published_at",
    "published_day",
    "published_utc_day",
    "published_source",
    "date_candidates",
    "modified_at",
    "date_trusted",
    "text_flags",
    "language",
    "sitename",
    "description",
    "text",
    "word_count",
    "text_sha256",
    "keywords",
    "people",
    "relevance",
    "extractor",
)


class Articles(Stories):
    """The tables articles, copies, mentions, keyword_matches and outlet_lines. Each write keeps
    the article's story (Stories, stories.py); its versions are Versions' (versions.py)."""

    # --- reading ---------------------------------------------------------

    def article_by_url(self, url: str) -> dict[str, Any] | None:
        return self.row("SELECT id, capture_id, text_sha256 FROM articles WHERE rtrim(url, '/') = rtrim(?, '/')", (url,))

    def article_by_text(self, text_sha256: str) -> dict[str, Any] | None:
        return self.row("SELECT id, url, published_day FROM articles WHERE text_sha256 = ?", (text_sha256,))

    def copy_by_url(self, url: str) -> dict[str, Any] | None:
        return self.row("SELECT id, article_id FROM copies WHERE rtrim(url, '/') = rtrim(?, '/')", (url,))

    def article_of_capture(self, capture_id: int) -> dict[str, Any] | None:
        """The article (every column) made from the capture, if one was."""
        return self.row("SELECT * FROM articles WHERE capture_id = ?", (capture_id,))

    def copy_of_capture(self, capture_id: int) -> dict[str, Any] | None:
        """The copy (every column) made from the capture, if one was."""
        return self.row("SELECT * FROM copies WHERE capture_id = ?", (capture_id,))

    # --- articles --------------------------------------------------------

    def add_article(self, page: FetchedPage, topic: Topic, story_similarity: float) -> int:
        """Article, its mentions and keyword matches and its story (the most similar archived
        text at `story_similarity` or more), in one transaction; returns its id."""
        with self.transaction():
            table = self.db["articles"].insert(_article_row(page, topic))
            self.replace_matches(table.last_pk, page)
            self.join_story(table.last_pk, sketch(page.article.text), story_similarity)
            self._count_lines(page.outlet_id, page.article.text)
        return table.last_pk

    def update_article(self, article_id: int, page: FetchedPage, topic: Topic, story_similarity: float) -> None:
        """The article as extracted again from its own capture (pipelines/jobs/reextraction.py):
        text, metadata, dates and relevance replaced, with its mentions, keyword matches, search
        entry (by trigger), line counts and story; its id, URL, capture, source and provenance
        kept. One transaction; a text another article already has raises sqlite3.IntegrityError."""
        with self.transaction():
            old = self.row("SELECT text, outlet_id FROM articles WHERE id = ?", (article_id,))
            row = {k: v for k, v in _article_row(page, topic).items() if k in REEXTRACTED_COLUMNS}
            self.db["articles"].update(article_id, row)
            self.replace_matches(article_id, page)
            if old["text"] != page.article.text:
                self._uncount_lines(old["outlet_id"], old["text"])
                self._count_lines(old["outlet_id"], page.article.text)
                self.leave_story(article_id)
                self.conn.execute("DELETE FROM text_sketches WHERE article_id = ?", (article_id,))
                self.join_story(article_id, sketch(page.article.text), story_similarity)
            else:
                self.lead_story(self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))["story_id"])

    def withdraw_article(self, article_id: int) -> None:
        """Remove an article its capture no longer yields (not an article, off-topic, out of the
        window): its copies, mentions, matches, sketch (by cascade), search entry (by trigger)
        and line counts go with it; a story it led is led by its next article. One transaction."""
        with self.transaction():
            old = self.row("SELECT text, outlet_id FROM articles WHERE id = ?", (article_id,))
            self.leave_story(article_id)
            self.conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self._uncount_lines(old["outlet_id"], old["text"])

    def replace_matches(self, article_id: int, page: FetchedPage) -> None:
        """The article's mentions and keyword matches become the page's, in the caller's transaction."""
        self.conn.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM keyword_matches WHERE article_id = ?", (article_id,))
        match = page.topic_match
        self.db["mentions"].insert_all(
            {"article_id": article_id, "person_id": m.term, "in_title": m.in_title, "in_body": m.in_body} for m in match.people
        )
        self.db["keyword_matches"].insert_all(
            {"article_id": article_id, "keyword": m.term, "in_title": m.in_title, "in_body": m.in_body} for m in match.keywords
        )

    # --- copies ----------------------------------------------------------

    def add_copy(self, page: FetchedPage, article_id: int, relation: str) -> None:
        with self.transaction():
            self.db["copies"].insert(_copy_row(page, article_id, relation))

    def promote_copy(self, page: FetchedPage, article_id: int, topic: Topic, relation: str) -> None:
        """The page is an earlier copy of an archived article: it becomes the article, the
        article's page becomes one of its copies. The article keeps its id."""
        with self.transaction():
            old = self.row(
                "SELECT a.url, a.capture_id, a.outlet_id, a.title, a.published_at, a.published_day, a.published_utc_day, "
                "a.crawl_run_id "
                "FROM articles a WHERE a.id = ?",
                (article_id,),
            )
            self.db["copies"].insert({**old, "article_id": article_id, "relation": relation, "added_at": utc_now()})
            row = _article_row(page, topic)
            del row["added_at"]
            self.db["articles"].update(article_id, row)
            self.replace_matches(article_id, page)
            # the article is now dated earlier: it may lead its story
            story = self.row("SELECT story_id FROM articles WHERE id = ?", (article_id,))
            if story["story_id"] is not None:
                self.lead_story(story["story_id"])

    def update_copy(self, copy_id: int, page: FetchedPage) -> None:
        with self.transaction():
            article = page.article
            self.db["copies"].update(
                copy_id,
                {
                    "title": article.title,
                    "published_at": article.published.value,
                    "published_day": article.published.day,
                    "published_utc_day": article.published.utc_day,
                },
            )

    def remove_copy(self, copy_id: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM copies WHERE id = ?", (copy_id,))

    # --- the outlets' repeated lines ---------------------------------------

    def boilerplate(self, outlet_id: str | None, min_articles: int, own_text: str | None = None) -> frozenset[str]:
        """Fingerprints of the lines the outlet repeats in `min_articles` articles or more, but
        for `own_text`'s (pipelines.core.extraction.repeated_lines)."""
        if outlet_id is None:
            return frozenset()
        rows = self.conn.execute(
            "SELECT line_fingerprint, articles FROM outlet_lines WHERE outlet_id = ? AND articles >= ?", (outlet_id, min_articles)
        )
        return repeated_lines(rows, min_articles, own_text)

    def _count_lines(self, outlet_id: str | None, text: str) -> None:
        if outlet_id is None:
            return
        self.conn.executemany(
            "INSERT INTO outlet_lines (outlet_id, line_fingerprint, articles) VALUES (?, ?, 1) "
            "ON CONFLICT (outlet_id, line_fingerprint) DO UPDATE SET articles = articles + 1",
            [(outlet_id, fingerprint) for fingerprint in sorted(line_fingerprints(text))],
        )

    def _uncount_lines(self, outlet_id: str | None, text: str) -> None:
        """The text is no longer an archived article's: its lines count one article less."""
        if outlet_id is None:
            return
        pairs = [(outlet_id, fingerprint) for fingerprint in sorted(line_fingerprints(text))]
        self.conn.executemany(
            "UPDATE outlet_lines SET articles = articles - 1 WHERE outlet_id = ? AND line_fingerprint = ?", pairs
        )
        self.conn.execute("DELETE FROM outlet_lines WHERE outlet_id = ? AND articles <= 0", (outlet_id,))


def _article_row(page: FetchedPage, topic: Topic) -> dict[str, Any]:
    article, match = page.article, page.topic_match
    names = {p.id: p.name for p in topic.people}
    return {
        "url": page.canonical_url,
        "capture_id": page.capture_id,
        "outlet_id": page.outlet_id,
        "title": article.title,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "published_at": article.published.value,
        "published_day": article.published.day,
        "published_utc_day": article.published.utc_day,
        "published_source": article.published.source,
        "date_candidates": json.dumps([c.as_dict() for c in article.published.candidates]),
        "modified_at": article.published.modified,
        "date_trusted": int(article.published.trusted),
        "text_flags": json.dumps(article.text_flags),
        "language": article.language,
        "sitename": article.sitename,
        "description": article.description,
        "text": article.text,
        "word_count": article.word_count,
        "text_sha256": article.text_sha256,
        "keywords": json.dumps([m.term for m in match.keywords], ensure_ascii=False),
        "people": json.dumps([names[m.term] for m in match.people], ensure_ascii=False),
        "relevance": match.reason,
        "source": page.source,
        "extractor": article.extractor,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }


def _copy_row(page: FetchedPage, article_id: int, relation: str) -> dict[str, Any]:
    article = page.article
    return {
        "article_id": article_id,
        "url": page.canonical_url,
        "capture_id": page.capture_id,
        "outlet_id": page.outlet_id,
        "title": article.title,
        "published_at": article.published.value,
        "published_day": article.published.day,
        "published_utc_day": article.published.utc_day,
        "relation": relation,
        "added_at": utc_now(),
        "crawl_run_id": page.crawl_run_id,
    }
