"""The item pipelines, one concern each, in the order crawlers/settings.py gives them.

takedown -> failure log -> respect -> capture -> extract -> topic -> dedupe -> store.
An expected reject raises Rejected(stage, reason): crawlers.extensions.RejectLog records it in the `rejects` table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from clippings.topic import Topic, load_topic
from crawlers.items import FetchedPage, FetchFailure
from pipelines.archive import Archive
from pipelines.canonical import canonical_url
from pipelines.extraction import NotAnArticle, decode_html, extract_article
from pipelines.relevance import OffTopic, TopicMatcher
from pipelines.takedowns import Takedowns

HTML_TYPES = ("text/html", "application/xhtml+xml")
NOARCHIVE = re.compile(rb"<meta[^>]+name=[\"']?(?:robots|[\w-]*bot)[\"']?[^>]*>", re.IGNORECASE)


class Rejected(DropItem):
    """An expected reject: the page was fetched, but is not (or not again) an article."""

    def __init__(self, stage: str, reason: str):
        super().__init__(reason, log_level="INFO")
        self.stage = stage
        self.reason = reason


class _TopicPipeline:
    """Base for pipelines that need the topic (read once, from the TOPIC_PATH setting)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.topic: Topic = load_topic(crawler.settings["TOPIC_PATH"])

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    def count(self, name: str) -> None:
        self.crawler.stats.inc_value(f"clippings/{name}")


class _ArchivePipeline(_TopicPipeline):
    """Base for pipelines that read or write the archive: one connection per spider run."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.archive_path = crawler.settings["ARCHIVE_PATH"]
        self.archive: Archive | None = None

    def open_spider(self) -> None:
        self.archive = Archive(self.archive_path)

    def close_spider(self) -> None:
        self.archive.close()


class TakedownPipeline(_ArchivePipeline):
    """Pages and failures at URLs a takedown covers are dropped before anything is recorded:
    not captured, not logged as rejects or failures (the takedowns table accounts for them).
    A takedown added while the crawl runs applies from the next item on."""

    def open_spider(self) -> None:
        super().open_spider()
        self.takedowns, self.latest = Takedowns([]), None

    def process_item(self, item):
        latest = self.archive.row("SELECT max(id) AS id FROM takedowns")["id"]
        if latest != self.latest:
            self.takedowns, self.latest = Takedowns(self.archive.takedown_patterns()), latest
        for url in (item.url, getattr(item, "final_url", None)):
            if pattern := self.takedowns.covers(url):
                self.count("takedowns_skipped")
                raise DropItem(f"taken down ({pattern})", log_level="INFO")
        return item


class FailureLogPipeline(_ArchivePipeline):
    """Fetch failures (HTTP errors, timeouts, robots.txt refusals) go to `fetch_failures`."""

    def process_item(self, item):
        if not isinstance(item, FetchFailure):
            return item
        self.archive.log_failure(item)
        self.count("fetch_failures")
        raise DropItem(f"fetch failure logged: {item.error}", log_level="DEBUG")


class RespectPipeline:
    """Pages that ask not to be archived (noarchive) are not kept, not even raw."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        header = ",".join(item.headers.get("x-robots-tag", []))
        if _says_noarchive(header.encode()):
            raise Rejected("respect", f"noarchive: X-Robots-Tag {header!r}")
        for tag in NOARCHIVE.findall(item.body[:65536]):
            if _says_noarchive(tag):
                raise Rejected("respect", f"noarchive: {tag.decode(errors='replace')}")
        return item


def _says_noarchive(directives: bytes) -> bool:
    content = directives.lower()
    return b"noarchive" in content or re.search(rb"\bnone\b", content) is not None


class CapturePipeline(_ArchivePipeline):
    """Every fetched page is kept raw (compressed), with its provenance."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        outlet = self.topic.outlet_for(item.final_url)
        item.outlet_id = outlet.id if outlet else None
        digest = hashlib.sha256(item.body).hexdigest()
        item.capture_id, item.capture_is_new = self.archive.add_capture(item, digest)
        self.count("captures_added" if item.capture_is_new else "captures_known")
        return item


class ExtractPipeline(_ArchivePipeline):
    """Text and metadata by the shared extraction function; non-articles are rejected. The
    lines the outlet repeats across its archived articles are dropped as boilerplate."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.min_words = crawler.settings.getint("MIN_ARTICLE_WORDS")
        self.boilerplate_min_articles = crawler.settings.getint("BOILERPLATE_MIN_ARTICLES")

    def process_item(self, item: FetchedPage) -> FetchedPage:
        content_type = (item.header("content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            raise Rejected("extract", f"not an HTML page ({content_type})")
        if _looks_binary(item.body):
            raise Rejected("extract", "not an HTML page (binary content)")
        html = decode_html(item.body, item.header("content-type"))
        try:
            item.article = extract_article(
                html, item.final_url, item.listing_dates, self.min_words,
                captured_at=item.archived_at or item.fetched_at,
                boilerplate=self.archive.boilerplate(item.outlet_id, self.boilerplate_min_articles),
            )
        except NotAnArticle as reason:
            raise Rejected("extract", str(reason)) from None
        return item


def _looks_binary(body: bytes) -> bool:
    """NUL bytes early on mean an image, a PDF or an executable, not HTML (UTF-16 aside)."""
    return b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff"))


class TopicPipeline(_TopicPipeline):
    """On-topic articles go on; off-topic or out-of-window ones stay captures only."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.matcher = TopicMatcher(self.topic)

    def process_item(self, item: FetchedPage) -> FetchedPage:
        day = item.article.published.day
        if day and not self.topic.in_window(dt.date.fromisoformat(day)):
            raise Rejected("topic", f"outside the window {self.topic.start}..{self.topic.end}: published {day}")
        try:
            item.topic_match = self.matcher.decide(item.article.title, item.article.text)
        except OffTopic as reason:
            raise Rejected("topic", str(reason)) from None
        return item


class DedupePipeline(_ArchivePipeline):
    """One article per canonical URL; identical text on another URL becomes a linked copy."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        item.canonical_url = canonical_url(item.final_url, item.article.canonical_hint)
        text_sha256 = item.article.text_sha256
        if known := self.archive.article_by_url(item.canonical_url):
            if known["text_sha256"] != text_sha256:
                raise Rejected("dedupe", f"already archived as article {known['id']}; this capture's text differs")
            item.unchanged = True
        elif self.archive.copy_by_url(item.canonical_url):
            item.unchanged = True
        elif original := self.archive.article_by_text(text_sha256):
            item.duplicate_of = original["id"]
        return item


class StorePipeline(_ArchivePipeline):
    """Writes the article (or the copy) with its mentions, one transaction each.

    The earliest-published copy of a text is the article; later ones link to it. A copy
    that turns out to be older than the archived article takes its place.
    """

    def process_item(self, item: FetchedPage) -> FetchedPage:
        if item.unchanged:
            self.count("articles_unchanged")
        elif item.duplicate_of is None:
            self.archive.add_article(item, self.topic)
            self.count("articles_added")
        elif _earlier(item.article.published.day, self.archive.article_by_text(item.article.text_sha256)["published_day"]):
            self.archive.promote_copy(item, item.duplicate_of, self.topic, "identical text")
            self.count("copies_added")
        else:
            self.archive.add_copy(item, item.duplicate_of, "identical text")
            self.count("copies_added")
        return item


def _earlier(day: str | None, than: str | None) -> bool:
    return bool(day and than and day < than)
