"""The item pipelines, one concern each, in the order crawlers/settings.py gives them.

takedown -> failure log -> respect -> capture -> analyse (extract, topic) -> dedupe -> store.
Each delegates to its step of pipelines/store/pages.py (PageWriter), the writer import and
reextract share, and to pipelines/core/analysis.py; PageWriter says why the crawl captures
before analysing where the import captures after.
Analysis awaits a worker process (pipelines/workers/pool.py), and capture, once an outlet, the training of
its compression dictionary; dedupe and store are synchronous, and Scrapy runs a page's synchronous
steps one after the other without returning to the event loop, so no other page's writes come
between a page's dedupe and its store.
An expected reject (pipelines.core.analysis.Rejected) becomes Scrapy's DropItem here, as RejectedPage(stage,
reason): crawlers.extensions.CrawlLog records it in the `rejects` table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.writer import ArchiveWriter
from pipelines.core.analysis import Rejected, check_respect, page_analysis
from pipelines.core.items import FetchedPage, FetchFailure
from pipelines.core.relevance import TopicMatcher
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import Topic, load_topic
from pipelines.store.archive import RUN_COUNTS, Archive
from pipelines.store.compression import train
from pipelines.store.pages import PageWriter
from pipelines.workers.pool import ExtractionPool


class RejectedPage(DropItem):
    """A page's expected reject at the Scrapy boundary: dropped, with the stage and the reason
    the rejects log records."""

    def __init__(self, stage: str, reason: str):
        super().__init__(reason, log_level="INFO")
        self.stage = stage
        self.reason = reason


@contextmanager
def dropping_rejects() -> Iterator[None]:
    """Rejected, raised by the code path import and reextract share, as Scrapy's DropItem."""
    try:
        yield
    except Rejected as reject:
        raise RejectedPage(reject.stage, reject.reason) from None


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
    """Base for pipelines that read or write the archive: the crawl's one connection
    (crawlers/writer.py), whose writes join the open group and are committed with it."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.writer = ArchiveWriter.of(crawler)
        self.thresholds = Thresholds.from_settings(crawler.settings)
        self.pages = PageWriter(self.writer.joining, self.topic, self.thresholds, crawler.spidercls.name)

    @property
    def archive(self) -> Archive:
        return self.writer.joining()

    def count(self, name: str) -> None:
        """In the stats; and in the run's row (RUN_COUNTS), in the transaction of what it counts."""
        super().count(name)
        if name in RUN_COUNTS:
            self.writer.count(name)


class TakedownPipeline(_ArchivePipeline):
    """Pages and failures at URLs a takedown covers are dropped before anything is recorded:
    not captured, not logged as rejects or failures (the takedowns table accounts for them).
    A takedown added while the crawl runs applies from the next group of writes on
    (crawlers/writer.py): the crawl sees the archive as its group began."""

    def process_item(self, item):
        if pattern := self.pages.taken_down(item):
            self.count("takedowns_skipped")
            raise DropItem(f"taken down ({pattern})", log_level="INFO")
        return item


class FailureLogPipeline(_ArchivePipeline):
    """Fetch failures (HTTP errors, timeouts, robots.txt refusals) go to `fetch_failures`."""

    def process_item(self, item):
        if not isinstance(item, FetchFailure):
            return item
        archive = self.archive
        with archive.transaction():
            if archive.log_failure(item):  # not when a resumed part fails it again
                self.count("fetch_failures")
        raise DropItem(f"fetch failure logged: {item.error}", log_level="DEBUG")


class RespectPipeline:
    """Pages that ask not to be archived (noarchive) are not kept, not even raw."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        with dropping_rejects():
            check_respect(item)
        return item


class CapturePipeline(_ArchivePipeline):
    """Every fetched page is kept raw (compressed), with its provenance. An outlet's pages are
    compressed with a dictionary trained on its first COMPRESSION_DICTIONARY_SAMPLES pages,
    in a thread (zstd releases the GIL), so that the event loop goes on meanwhile: the
    outlet's pages captured during the training stay plain until `clippings compact`."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.training: set[str] = set()  # outlets whose dictionary is being trained

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        self.pages.capture(item, train_dictionaries=False)
        self.count("captures_added" if item.capture_is_new else "captures_known")
        outlet = item.outlet_id
        if item.capture_is_new and outlet not in self.training and self.archive.needs_dictionary(outlet):
            await self._train(outlet)
        return item

    async def _train(self, outlet_id: str) -> None:
        self.training.add(outlet_id)
        try:
            samples = self.archive.dictionary_samples(outlet_id)
            dictionary = await asyncio.to_thread(train, samples, self.writer.dictionaries.size)
            self.archive.add_dictionary(outlet_id, len(samples), dictionary)
        finally:
            self.training.discard(outlet_id)


class AnalysePipeline(_ArchivePipeline):
    """The CPU-bound part of a page, pipelines.core.analysis.analyse_page: text and metadata by the
    shared extraction function, then the topic match; non-articles, off-topic and out-of-window
    pages are rejected. It runs in the extraction pool's worker processes (EXTRACTION_WORKERS;
    0: in this process), which get the topic matcher and the research thresholds once, when they
    start, and send back the article and its topic match. The lines the outlet repeats across
    its archived articles are dropped as boilerplate; off-topic articles stay captures only."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        shared = {"matcher": TopicMatcher(self.topic), "thresholds": self.thresholds}
        self.pool = ExtractionPool(crawler.settings.getint("EXTRACTION_WORKERS"), shared=shared)

    def open_spider(self) -> None:
        self.pool.start()

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        # The outlet's boilerplate as archived when the page leaves: pages in flight at the
        # same time do not see each other's lines (at most CONCURRENT_ITEMS of them).
        boilerplate = self.pages.boilerplate(item.outlet_id)
        with dropping_rejects():
            item.article, item.topic_match = await self.pool.run(page_analysis, item, boilerplate)
        item.boilerplate = boilerplate
        return item


class DedupePipeline(_ArchivePipeline):
    """One article per canonical URL; identical text on another URL becomes a linked copy."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        self.pages.dedupe(item)
        return item


class StorePipeline(_ArchivePipeline):
    """Writes the article (or the copy) with its mentions, all or nothing
    (pipelines.store.pages.store_page says which)."""

    def process_item(self, item: FetchedPage) -> FetchedPage:
        self.pages.store(item, counted=self.count)
        return item
