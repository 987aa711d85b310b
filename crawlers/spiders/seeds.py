"""Fetch given URLs: the topic's seed URLs, or a --urls file (one URL per line)."""

from __future__ import annotations

from crawlers.spiders.base import ArchiveSpider


class SeedsSpider(ArchiveSpider):
    name = "seeds"

    async def start(self):
        urls = self.listed_urls() if self.urls_file else [u for o in self.topic.outlets for u in o.seeds]
        for url in urls:
            yield self.request(url, self.parse_page)
