"""The crawl's one connection to the archive, its writes committed in groups.

Committing each page on its own made the crawl's process spend a fifth of its time in COMMIT:
an fsync of the WAL and an FTS5 segment for every page (BENCHMARKS.md, crawl throughput). Here
the item pipelines and the bookkeeping extensions share one connection; a page's writes join
the group's transaction, each page still all-or-nothing inside it (a savepoint), and the group
commits every GROUP_COMMIT_SECONDS. A crash loses the uncommitted group, never part of a page.

The job state (crawlers/jobstate.py) follows the commits: a URL counts as finished once the
group holding its outcome is committed (the archive_committed signal), so a crawl killed
mid-group fetches that group's URLs again, and the archive's idempotent writes take them back.

Another writer (`clippings takedown` during a crawl) gets its turn between groups: after a
commit, the next group opens only GROUP_GAP_SECONDS later, and pages written in between commit
one by one, as before, so the lock is free between them.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

from pipelines.archive import Archive
from pipelines.compression import DictionaryPolicy

logger = logging.getLogger(__name__)

# Sent after a group's transaction is committed: every write made before it is durable.
archive_committed = object()
# Sent when a group's transaction was lost (rolled back on an error): its pages were not written.
archive_rolled_back = object()

# Long enough for another writer's busy handler (SQLite polls at most every 100 ms) to find
# the lock free now and then; short enough to cost the crawl few single-page commits.
GROUP_GAP_SECONDS = 0.1


class ArchiveWriter:
    """Extension: opens the archive on first use, commits the open group every
    GROUP_COMMIT_SECONDS and when the spider closes, closes the archive when the engine stops.
    GROUP_COMMIT_SECONDS = 0 commits every write at once (no groups)."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.path = settings["ARCHIVE_PATH"]
        self.dictionaries = DictionaryPolicy(settings.getint("COMPRESSION_DICTIONARY_SAMPLES"),
                                             settings.getint("COMPRESSION_DICTIONARY_SIZE"))
        self.group_seconds = settings.getfloat("GROUP_COMMIT_SECONDS")
        self._archive: Archive | None = None
        self.grouping = False  # a group may open (between spider_opened and spider_closed)
        self.group_open = False
        self.committed_at = 0.0
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveWriter:
        writer = cls(crawler)
        crawler.signals.connect(writer.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(writer.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(writer.engine_stopped, signal=signals.engine_stopped)
        return writer

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveWriter:
        """The crawl's writer (the extension must be enabled: crawlers/settings.py EXTENSIONS)."""
        writer = crawler.get_extension(cls)
        if writer is None:
            raise RuntimeError("the ArchiveWriter extension is not enabled: the pipelines have no archive")
        return writer

    @property
    def archive(self) -> Archive:
        """The connection, for reads and for writes outside the groups."""
        if self._archive is None:
            self._archive = Archive(self.path, dictionaries=self.dictionaries)
        return self._archive

    def joining(self) -> Archive:
        """The connection, with a group open for the writes that follow (unless the gap after
        the last commit is still running, or grouping is off)."""
        archive = self.archive
        if self.grouping and not self.group_open and time.monotonic() - self.committed_at >= GROUP_GAP_SECONDS:
            archive.hold()
            self.group_open = True
        return archive

    def commit(self) -> None:
        """Commit the open group, if any; then archive_committed (every write so far is
        durable), or archive_rolled_back if the group was lost."""
        committed = True
        if self.group_open:
            self.group_open = False
            self.committed_at = time.monotonic()
            try:
                committed = self.archive.release()
            except sqlite3.Error as error:
                self.archive.discard()
                committed = False
                logger.error("The archive could not commit its last group of pages (%s)", error)
        if not committed:
            logger.error("The last %.1f s of pages were not written: the crawl fetches them again when it resumes",
                         self.group_seconds)
        self.crawler.signals.send_catch_log(archive_committed if committed else archive_rolled_back)

    def spider_opened(self, spider) -> None:
        if self.group_seconds > 0:
            self.grouping = True
            self.loop = task.LoopingCall(self.commit)
            self.loop.start(self.group_seconds, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        self.grouping = False
        if self.loop and self.loop.running:
            self.loop.stop()
        self.commit()

    def engine_stopped(self) -> None:
        if self._archive is not None:
            self.commit()
            self._archive.close()
            self._archive = None
