"""Fetch given URLs: the topic's seed URLs, or a --urls file (one URL per line)."""

from __future__ import annotations

from scrapy.http import Response

from crawlers.spiders.base import ArchiveSpider


class SeedsSpider(ArchiveSpider):
    name = "seeds"
    entry_kind = "seeds"

    def parse_entry(self, response: Response):
        yield self.page(response)
