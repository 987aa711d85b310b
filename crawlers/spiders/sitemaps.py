"""Walk the outlets' sitemaps (indexes, urlsets, news sitemaps), keeping entries the window admits."""

from __future__ import annotations

from scrapy.http import Response

from crawlers.listings import NotAListing, parse_sitemap
from crawlers.spiders.base import ArchiveSpider


class SitemapsSpider(ArchiveSpider):
    name = "sitemaps"
    entry_kind = "sitemaps"

    def parse_entry(self, response: Response, depth: int = 0):
        """A sitemap the topic lists (depth 0), or one an index lists (its depth: the indexes above it)."""
        try:
            sitemap = parse_sitemap(response.body, response.url, self.settings.getint("SITEMAP_MAX_BYTES"))
        except NotAListing as reason:
            yield self.unreadable_listing(response, reason)
            return
        if sitemap.damage:
            yield self.damaged_listing(response, sitemap)
        for entry in sitemap.entries:
            if entry.outside(self.topic.start, self.topic.end):
                self.crawler.stats.inc_value("clippings/listing_entries_outside_window")
            elif sitemap.kind == "index":
                yield self.nested_sitemap(entry.url, depth + 1, self.parse_entry)
            else:
                dates = {"sitemap": entry.published} if entry.published else {}
                yield self.request(entry.url, self.parse_page, listing_dates=dates)
