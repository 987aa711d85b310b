"""Crawl bookkeeping: the crawl_runs row, the rejects log, and a progress display."""

from __future__ import annotations

import sqlite3
import sys

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawlers.addons import recorded_settings
from crawlers.stages import RejectedPage
from crawlers.writer import STOPPED_REASON, ArchiveWriter
from pipelines.core.analysis import Rejected
from pipelines.core.topic import load_topic
from pipelines.store.pages import log_reject


class CrawlLog:
    """Records the run (topic, user agent, robots policy, the settings in force, how it ended) and
    every reject with its reason. The run's counts are written with what they count (crawlers/writer.py)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.topic = load_topic(crawler.settings["TOPIC_PATH"])

    @property
    def writer(self) -> ArchiveWriter:
        return ArchiveWriter.of(self.crawler)  # not in __init__: extensions are built one after the other

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        return extension

    def spider_opened(self, spider) -> None:
        if self.writer.failure:  # its job state could not be written
            return
        settings = self.crawler.settings
        with self.writer.writing() as archive:
            archive.sync_topic(self.topic)
            archive.start_run(
                spider.crawl_run_id,
                spider.name,
                self.topic,
                settings["USER_AGENT"],
                settings.getbool("ROBOTSTXT_OBEY"),
                recorded_settings(settings),
            )

    def item_dropped(self, item, response, exception, spider) -> None:
        if not isinstance(exception, RejectedPage) or self.writer.failure:
            return
        reject = Rejected(exception.stage, exception.reason)
        with self.writer.writing() as archive, archive.transaction():
            if log_reject(archive, item, reject, spider.name, spider.crawl_run_id):  # not when a resumed part rejects it again
                self.writer.count("rejects")
        self.crawler.stats.inc_value("clippings/rejects")

    def spider_closed(self, spider, reason: str) -> None:
        if not self.writer.failure:
            with self.writer.writing() as archive:
                archive.finish_run(spider.crawl_run_id, reason, {})
            return
        try:  # say why the run stopped, if the archive takes this one write
            self.writer.archive.finish_run(spider.crawl_run_id, STOPPED_REASON, {})
        except sqlite3.Error:
            pass  # the reason is in the log, and the user was told


class ProgressDisplay:
    """A status line on stderr every PROGRESS_INTERVAL seconds: fetched, kept, rejected, failed."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.live = sys.stderr.isatty()

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        if not crawler.settings.getbool("PROGRESS_DISPLAY"):
            raise NotConfigured
        extension = cls(crawler, crawler.settings.getfloat("PROGRESS_INTERVAL"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        self.name = spider.name
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.show(final=True)

    def show(self, final: bool = False) -> None:
        value = self.crawler.stats.get_value
        line = (
            f"[{self.name}] pages fetched {value('response_received_count', 0)}"
            f" · articles kept {value('clippings/articles_added', 0)}"
            f" (+{value('clippings/copies_added', 0)} copies, {value('clippings/versions_added', 0)} new versions,"
            f" {value('clippings/articles_unchanged', 0)} already archived)"
            f" · rejects {value('clippings/rejects', 0)}"
            f" · errors {value('clippings/fetch_failures', 0)}"
        )
        end = "\n" if final or not self.live else ""
        sys.stderr.write(("\r" if self.live else "") + line + end)
        sys.stderr.flush()
