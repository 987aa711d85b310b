"""Follow the outlets' RSS and Atom feeds to their articles, skipping entries dated outside the window."""

from __future__ import annotations

from scrapy.http import Response

from crawlers.listings import NotAListing, parse_feed
from crawlers.spiders.base import ArchiveSpider


class FeedsSpider(ArchiveSpider):
    name = "feeds"
    entry_kind = "feeds"

    def parse_entry(self, response: Response):
        try:
            feed = parse_feed(response.body, response.url)
        except NotAListing as reason:
            yield self.unreadable_listing(response, reason)
            return
        if feed.damage:
            yield self.damaged_listing(response, feed)
        for entry in feed.entries:
            if entry.outside(self.topic.start, self.topic.end):
                self.crawler.stats.inc_value("clippings/listing_entries_outside_window")
                continue
            dates = {"feed": entry.published} if entry.published else {}
            yield self.request(entry.url, self.parse_page, listing_dates=dates)
