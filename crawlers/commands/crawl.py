"""`scrapy crawl`, as Scrapy's, plus: one crawl of a spider into an archive at a time, and a
non-zero exit with one sentence when the crawl stopped because a write was refused."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from scrapy.commands import crawl

from crawlers.crawllock import CrawlLock, CrawlRunning
from crawlers.writer import STOPPED_STAT

# Exit statuses `clippings crawl` knows: the sentence is already on stderr.
EXIT_STOPPED = 3  # a write was refused (a full disk): the job state is kept, the same command resumes
EXIT_BUSY = 4  # another crawl of the spider is writing to the archive

logger = logging.getLogger(__name__)


class Command(crawl.Command):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage error
            return
        # A log file on a full disk must not print a traceback per message: the user is told below.
        logging.raiseExceptions = False
        lock = CrawlLock(Path(self.settings["ARCHIVE_PATH"]).resolve(), args[0])
        try:
            lock.acquire()
        except CrawlRunning as running:
            self.refuse(str(running), EXIT_BUSY)
            return
        try:
            crawler = self._create_crawler(args[0])
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            lock.release()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif stopped := crawler.stats.get_value(STOPPED_STAT):
            self.refuse(f"the {args[0]} crawl stopped: {stopped}", EXIT_STOPPED)

    def refuse(self, sentence: str, status: int) -> None:
        logger.error(sentence)
        sys.stderr.write(f"Error: {sentence}\n")
        self.exitcode = status
