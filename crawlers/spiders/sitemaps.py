"""Walk the outlets' sitemaps (indexes, urlsets, news sitemaps), keeping entries the window admits."""

from __future__ import annotations

import gzip
import io

from scrapy.http import Response

from crawlers.listings import NotAListing, parse_sitemap
from crawlers.spiders.base import ArchiveSpider

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps protocol's own limit


class SitemapsSpider(ArchiveSpider):
    name = "sitemaps"
    entry_kind = "sitemaps"

    def parse_entry(self, response: Response):
        try:
            sitemap = parse_sitemap(sitemap_body(response.body), response.url)
        except NotAListing as reason:
            self.unreadable_listing(response, reason)
            return
        for entry in sitemap.entries:
            if entry.outside(self.topic.start, self.topic.end):
                self.crawler.stats.inc_value("clippings/listing_entries_outside_window")
            elif sitemap.kind == "index":
                yield self.request(entry.url, self.parse_entry)
            else:
                dates = {"sitemap": entry.published} if entry.published else {}
                yield self.request(entry.url, self.parse_page, listing_dates=dates)


def sitemap_body(body: bytes) -> bytes:
    """Sitemaps may be served gzipped as files (sitemap.xml.gz), beyond HTTP compression."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            return stream.read(MAX_SITEMAP_BYTES)
    except (OSError, EOFError) as error:
        raise NotAListing(f"corrupt gzipped sitemap ({error})") from error
