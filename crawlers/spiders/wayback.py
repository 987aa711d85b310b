"""Backfill the window from the Wayback Machine (or any Wayback or pywb server): the outlets' archived
feeds and news sitemaps first, then every archived article URL, each capture fetched raw (id_ replay)."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from crawlers.listings import NotAListing, parse_feed, parse_sitemap
from crawlers.spiders.archived import CapturesSpider
from pipelines.sources.cdx import Capture, Query, timestamp_iso


class WaybackSpider(CapturesSpider):
    """Listings come first so their dates reach the articles they list: the domain-wide
    queries start only once the spider is idle, and skip the URLs the listings gave."""

    name = "wayback"
    source = "wayback"
    service_settings = ("WAYBACK_CDX_URL", "WAYBACK_REPLAY_URL")

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.replay_pattern = replay_pattern(crawler.settings["WAYBACK_REPLAY_URL"])
        spider.articles_listed = False
        spider.listing_days: set[tuple[str, str]] = set()  # (listing, YYYYMMDD) already fetched
        crawler.signals.connect(spider.list_articles, signal=signals.spider_idle)
        return spider

    async def start(self):
        start, end = self.capture_range()
        for kind, url in self.listing_urls():
            # One capture of a listing a day: a feed or news sitemap holds at least a day's articles.
            query = Query(self.settings["WAYBACK_CDX_URL"], url, "exact", start, end, html_only=False, collapse="timestamp:8")
            yield self.cdx_request(query, kind)

    def listing_urls(self) -> list[tuple[str, str]]:
        """The outlets' feeds and sitemaps (a --urls file lists URL patterns, not listings)."""
        if self.urls_file:
            return []
        outlets = self.topic.outlets
        return [("feed", u) for o in outlets for u in o.feeds] + [("sitemap", u) for o in outlets for u in o.sitemaps]

    def list_articles(self) -> None:
        """spider_idle: the listings are done; now every archived article URL of the outlets."""
        if self.articles_listed:
            return
        self.articles_listed = True
        for query in self.capture_queries(self.settings["WAYBACK_CDX_URL"]):
            request = self.cdx_request(query, "articles")
            if isinstance(request, Request):  # the CDX host is always in scope
                self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def listed_captures(self, captures: list[Capture], kind: str, **cb_kwargs: Any):
        if kind == "articles":
            for capture in captures:
                if self.wanted(capture):
                    yield self.capture_request(capture.timestamp, capture.url, {}, self.article_urls.rank(capture.url))
            return
        for capture in captures:
            day = (capture.key, capture.timestamp[:8])  # pywb ignores collapse: the same rule here
            if capture.status in (None, 200) and day not in self.listing_days:
                self.listing_days.add(day)
                yield self.request(
                    self.replay_url(capture.timestamp, capture.url),
                    self.parse_listing,
                    kind=kind,
                    timestamp=capture.timestamp,
                    listing_url=capture.url,
                )

    def parse_listing(self, response: Response, kind: str, timestamp: str, listing_url: str, depth: int = 0):
        """An archived feed or sitemap: its entries in the window, each fetched as archived
        at (or nearest to) the listing's own capture time. `depth`: the sitemap indexes above it."""
        try:
            if kind == "feed":
                listing = parse_feed(response.body, listing_url)
            else:
                listing = parse_sitemap(response.body, listing_url, self.settings.getint("SITEMAP_MAX_BYTES"))
        except NotAListing as reason:
            yield self.unreadable_listing(response, reason)
            return
        if listing.damage:
            yield self.damaged_listing(response, listing)
        for entry in listing.entries:
            if entry.outside(self.topic.start, self.topic.end):
                self.crawler.stats.inc_value("clippings/listing_entries_outside_window")
            elif listing.kind == "index":
                yield self.nested_sitemap(
                    self.replay_url(timestamp, entry.url),
                    depth + 1,
                    self.parse_listing,
                    kind=kind,
                    timestamp=timestamp,
                    listing_url=entry.url,
                )
            elif self.wanted(Capture(entry.url, timestamp), check_url=False):
                dates = {kind: entry.published} if entry.published else {}
                yield self.capture_request(timestamp, entry.url, dates, self.article_urls.rank(entry.url))

    def capture_request(self, timestamp: str, original: str, listing_dates: dict[str, str], priority: int):
        request = self.request(
            self.replay_url(timestamp, original), self.parse_capture, original=original, listing_dates=listing_dates
        )
        if isinstance(request, Request):
            request.priority = priority
        return request

    def parse_capture(self, response: Response, original: str, listing_dates: dict[str, str]):
        """The archived page under its original URL, with the capture's time and replay URL."""
        page = self.page(response, listing_dates)
        timestamp, final_original = self.replayed(response.url)
        page.url = original
        page.final_url = final_original or original
        page.source = self.source
        page.archived_at = memento_datetime(response) or (timestamp_iso(timestamp) if timestamp else None)
        page.record_file = response.url
        yield page

    def replay_url(self, timestamp: str, url: str) -> str:
        return self.settings["WAYBACK_REPLAY_URL"].format(timestamp=timestamp, url=url)

    def replayed(self, replay_url: str) -> tuple[str | None, str | None]:
        """The timestamp and original URL a replay URL names (after the archive's redirects)."""
        match = self.replay_pattern.match(replay_url)
        return (match["timestamp"], match["url"]) if match else (None, None)


def replay_pattern(template: str) -> re.Pattern:
    """WAYBACK_REPLAY_URL as a regular expression that reads a replay URL back."""
    parts = re.split(r"(\{timestamp\}|\{url\})", template)
    groups = {"{timestamp}": r"(?P<timestamp>\d{1,14})", "{url}": r"(?P<url>.+)"}
    return re.compile("".join(groups.get(part, re.escape(part)) for part in parts) + "$")


def memento_datetime(response: Response) -> str | None:
    """The capture time the archive states (RFC 7089 Memento-Datetime), as ISO 8601 UTC."""
    value = response.headers.get("Memento-Datetime")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
