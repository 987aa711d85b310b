"""What happens to one fetched page, as plain functions: the crawl's item pipelines, `clippings import`
and `clippings reextract` all call these, so a page takes one code path whatever its source.

analyse_page() is the CPU-bound part and touches no database (respect, extract, relate to the
topic): it can run in a worker process. capture_page(), dedupe_page() and store_page() are the
writer's part, on one archive connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

from scrapy.exceptions import DropItem

from clippings.topic import Topic
from crawlers.items import FetchedPage
from pipelines.archive import Archive
from pipelines.canonical import canonical_url, web_url
from pipelines.extraction import (
    Article, NotAnArticle, decode_html, drop_known_lines, extract_article, normalised_text,
)
from pipelines.relevance import OffTopic, TopicMatch, TopicMatcher
from pipelines.thresholds import Thresholds

HTML_TYPES = ("text/html", "application/xhtml+xml")
NOARCHIVE = re.compile(rb"<meta[^>]+name=[\"']?(?:robots|[\w-]*bot)[\"']?[^>]*>", re.IGNORECASE)


class Rejected(DropItem):
    """An expected reject: the page was fetched, but is not (or not again) an article."""

    def __init__(self, stage: str, reason: str):
        super().__init__(reason, log_level="INFO")
        self.stage = stage
        self.reason = reason

    def __reduce__(self):  # so a reject crosses from a worker process intact
        return (Rejected, (self.stage, self.reason))


# --- the CPU-bound part: no database ------------------------------------------


def check_respect(page: FetchedPage) -> None:
    """Pages that ask not to be archived (noarchive) are rejected before anything is kept."""
    header = ",".join(page.headers.get("x-robots-tag", []))
    if _says_noarchive(header.encode()):
        raise Rejected("respect", f"noarchive: X-Robots-Tag {header!r}")
    for tag in NOARCHIVE.findall(page.body[:65536]):
        if _says_noarchive(tag):
            raise Rejected("respect", f"noarchive: {tag.decode(errors='replace')}")


def _says_noarchive(directives: bytes) -> bool:
    content = directives.lower()
    return b"noarchive" in content or re.search(rb"\bnone\b", content) is not None


def extract_page(page: FetchedPage, thresholds: Thresholds,
                 boilerplate: frozenset[str] = frozenset(), time_zone: ZoneInfo | None = None) -> Article:
    """The page's article by the shared extraction function; Rejected("extract", why) otherwise.
    `thresholds`: the run's (its minimum words, its `thin` flag).
    `boilerplate`: fingerprints of the lines the page's outlet repeats (Archive.boilerplate).
    `time_zone`: the outlet's, from the topic file (Topic.time_zone_for).
    A page whose own URL is not an http(s) address (a web archive may name a javascript: URL as
    the original) is not a web page: its URL would become a link to run."""
    if not _is_web_page(page.final_url):
        raise Rejected("extract", f"not a web page: its URL {page.final_url!r} is not an http(s) address")
    content_type = (page.header("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        raise Rejected("extract", f"not an HTML page ({content_type})")
    if _looks_binary(page.body):
        raise Rejected("extract", "not an HTML page (binary content)")
    html = decode_html(page.body, page.header("content-type"))
    try:
        return extract_article(
            html, page.final_url, page.listing_dates, thresholds.min_article_words, thin_words=thresholds.thin_words,
            captured_at=page.archived_at or page.fetched_at, boilerplate=boilerplate, time_zone=time_zone,
        )
    except NotAnArticle as reason:
        raise Rejected("extract", str(reason)) from None


def _is_web_page(url: str) -> bool:
    try:
        return web_url(canonical_url(url)) is not None
    except ValueError:  # urlsplit: a broken host ("http://[::1")
        return False


def _looks_binary(body: bytes) -> bool:
    """NUL bytes early on mean an image, a PDF or an executable, not HTML (UTF-16 aside)."""
    return b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff"))


def match_topic(article: Article, matcher: TopicMatcher) -> TopicMatch:
    """The article's match with the topic; Rejected("topic", why) when out of window or off-topic."""
    topic = matcher.topic
    day = article.published.day
    if day and not topic.in_window(dt.date.fromisoformat(day)):
        raise Rejected("topic", f"outside the window {topic.start}..{topic.end}: published {day}")
    try:
        return matcher.decide(article.title, article.text)
    except OffTopic as reason:
        raise Rejected("topic", str(reason)) from None


def analyse_page(page: FetchedPage, matcher: TopicMatcher, thresholds: Thresholds,
                 boilerplate: frozenset[str] = frozenset()) -> FetchedPage:
    """Respect, extract and relate to the topic: the page with .article and .topic_match filled
    in, or Rejected with the stage and the reason."""
    page.article, page.topic_match = page_analysis(page, boilerplate, matcher, thresholds)
    page.boilerplate = boilerplate
    return page


def page_analysis(page: FetchedPage, boilerplate: frozenset[str], matcher: TopicMatcher,
                  thresholds: Thresholds) -> tuple[Article, TopicMatch]:
    """analyse_page's findings alone: what a worker process sends back to the crawl's process,
    which holds the page already (its body is most of what pickling the page would cost)."""
    check_respect(page)
    article = extract_page(page, thresholds, boilerplate, matcher.topic.time_zone_for(page.final_url))
    return article, match_topic(article, matcher)


# --- the writer's part: one archive connection --------------------------------


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
    extracting first (pages are extracted concurrently, pipelines/pool.py). Of the versions at
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
