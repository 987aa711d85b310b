"""The writer's part of one page's code path, on one archive connection: keep the raw page, find
whether its text is new, a copy or a version, and store it. The crawl's item pipelines,
`clippings import` and `clippings reextract` all call these after pipelines/core/analysis.py."""

from __future__ import annotations

import hashlib

from pipelines.core.canonical import canonical_url
from pipelines.core.extraction import drop_known_lines, normalised_text
from pipelines.core.items import FetchedPage
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import Topic
from pipelines.store.archive import Archive


def capture_page(archive: Archive, topic: Topic, page: FetchedPage, train_dictionaries: bool = True) -> None:
    """Keep the raw page (compressed) with its provenance; sets capture_id and outlet_id.
    `train_dictionaries`: see Archive.add_capture."""
    outlet = topic.outlet_for(page.final_url)
    page.outlet_id = outlet.id if outlet else None
    page.content_sha256 = hashlib.sha256(page.body).hexdigest()
    page.capture_id, page.capture_is_new = archive.add_capture(page, page.content_sha256, train_dictionaries)


def dedupe_page(archive: Archive, page: FetchedPage) -> None:
    """One article per canonical URL; identical text on another URL becomes a linked copy; a
    text the article's URL has not given before is a new version of it (an update, a correction).
    Sets canonical_url, and unchanged, version_of or duplicate_of."""
    page.canonical_url = canonical_url(page.final_url, page.article.canonical_hint)
    text_sha256 = page.article.text_sha256
    if known := archive.article_by_url(page.canonical_url):
        if _shown_before(archive, known, page):
            page.unchanged = True
        else:
            page.version_of = known["id"]
    elif archive.copy_by_url(page.canonical_url):
        page.unchanged = True
    elif original := archive.article_by_text(text_sha256):
        page.duplicate_of = original["id"]


def _shown_before(archive: Archive, article: dict, page: FetchedPage) -> bool:
    """The page shows nothing the article's URL has not: a text it gave, or a body it gave (the
    same capture extracted again: a text that differs only by how it was extracted, e.g. once a
    line became the outlet's boilerplate, is no new version), or a text it gave but for lines
    that are boilerplate now (the page's bytes changed elsewhere: a timestamp, an ad slot)."""
    text_sha256 = page.article.text_sha256
    if article["text_sha256"] == text_sha256 or archive.version_by_text(article["id"], text_sha256):
        return True
    if page.content_sha256 and archive.body_shown(article["id"], page.content_sha256):
        return True
    return bool(page.boilerplate) and any(
        _text_sha256(drop_known_lines(text, page.boilerplate)) == text_sha256 for text in archive.texts_shown(article["id"])
    )


def _text_sha256(text: str) -> str:
    """As Article.text_sha256."""
    return hashlib.sha256(normalised_text(text).encode()).hexdigest()


def store_page(archive: Archive, topic: Topic, page: FetchedPage, thresholds: Thresholds) -> str:
    """Write the article (or the copy, or the version) with its mentions, one transaction;
    returns what happened: articles_added, copies_added, versions_added or articles_unchanged.

    The earliest-published copy of a text is the article; later ones link to it. A copy
    that turns out to be older than the archived article takes its place. Copies published the
    same day are ordered by URL, so the archive does not depend on which page finished
    extracting first (pages are extracted concurrently, pipelines/workers/pool.py). Of the versions at
    one URL, the earliest captured is the article's text (Archive.add_version). A new article
    joins the story of texts at least `thresholds.story_similarity` like it.
    """
    if page.unchanged:
        return "articles_unchanged"
    if page.version_of is not None:
        archive.add_version(page, page.version_of, topic)
        return "versions_added"
    if page.duplicate_of is None:
        archive.add_article(page, topic, thresholds.story_similarity)
        return "articles_added"
    original = archive.article_by_text(page.article.text_sha256)
    if _earlier((page.article.published.day, page.canonical_url), (original["published_day"], original["url"])):
        archive.promote_copy(page, page.duplicate_of, topic, "identical text")
    else:
        archive.add_copy(page, page.duplicate_of, "identical text")
    return "copies_added"


def _earlier(page: tuple[str | None, str], than: tuple[str | None, str]) -> bool:
    """(day, URL) before (day, URL); an undated page is never earlier, nor later than one."""
    return bool(page[0] and than[0] and page < than)
