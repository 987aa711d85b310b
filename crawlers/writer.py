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

The run's counts (crawl_runs) are written with the writes they count, in the same transaction,
so that they add up over the parts of a resumed run to what the archive holds.

A write the archive refuses (a full disk, an I/O error, a read-only or corrupt file) stops the
crawl: the open group is lost, nothing more is written, and the spider closes with the reason
STOPPED_REASON; its job state stays, and the same command resumes the crawl once the archive can
be written again. (A page's own bad write, a constraint it breaks, is that page's error only.)
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task
from twisted.python.failure import Failure

from pipelines.store.archive import Archive
from pipelines.store.compression import DictionaryPolicy

logger = logging.getLogger(__name__)

# The spider's close reason, and the stat holding why, when the archive refused a write.
STOPPED_REASON = "archive_unwritable"
STOPPED_STAT = "clippings/stopped"

# Sent after a group's transaction is committed: every write made before it is durable.
archive_committed = object()
# Sent when a group's transaction was lost (rolled back on an error): its pages were not written.
archive_rolled_back = object()

# Long enough for another writer's busy handler (SQLite polls at most every 100 ms) to find
# the lock free now and then; short enough to cost the crawl few single-page commits.
GROUP_GAP_SECONDS = 0.1
# Errors of one page's write, not of the archive: the page fails, the crawl goes on.
PAGE_ERRORS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.DataError)


def stopped_because(what: str, error: sqlite3.Error) -> str:
    """Why the crawl stopped and what to do, for a sentence that starts "the crawl stopped: "."""
    name = getattr(error, "sqlite_errorname", "") or ""
    advice = "free some space" if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) else "fix that"
    return f"{what} could not be written ({error}); {advice}, then run the same command again to resume."


class NotStored(DropItem):
    """The archive stopped taking writes earlier in the crawl: the page is left to the resumed crawl."""

    def __init__(self):
        super().__init__("not stored: the archive stopped taking writes", log_level="DEBUG")


class ArchiveWriter:
    """Extension: opens the archive on first use, commits the open group every
    GROUP_COMMIT_SECONDS and when the spider closes, closes the archive when the engine stops.
    GROUP_COMMIT_SECONDS = 0 commits every write at once (no groups)."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.path = settings["ARCHIVE_PATH"]
        self.dictionaries = DictionaryPolicy(
            settings.getint("COMPRESSION_DICTIONARY_SAMPLES"), settings.getint("COMPRESSION_DICTIONARY_SIZE")
        )
        self.group_seconds = settings.getfloat("GROUP_COMMIT_SECONDS")
        self._archive: Archive | None = None
        self.grouping = False  # a group may open (between spider_opened and spider_closed)
        self.group_open = False
        self.committed_at = 0.0
        self.loop: task.LoopingCall | None = None
        self.counts: Counter[str] = Counter()  # crawl_runs counts not yet written
        self.failure: str | None = None  # why the archive stopped taking writes
        self.closing = None  # the Deferred closing the spider after a failure

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveWriter:
        writer = cls(crawler)
        crawler.signals.connect(writer.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(writer.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(writer.engine_stopped, signal=signals.engine_stopped)
        crawler.signals.connect(writer.response_received, signal=signals.response_received)
        crawler.signals.connect(writer.item_error, signal=signals.item_error)
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
        the last commit is still running, or grouping is off). NotStored once the archive has
        refused a write."""
        if self.failure:
            raise NotStored()
        archive = self.archive
        if self.grouping and not self.group_open and time.monotonic() - self.committed_at >= GROUP_GAP_SECONDS:
            archive.hold()
            self.group_open = True
        return archive

    @contextmanager
    def writing(self) -> Iterator[Archive]:
        """For writes outside the item pipelines (the extensions', which check `failure` first):
        the connection as joining() gives it; a write the archive refuses stops the crawl instead
        of raising."""
        try:
            yield self.joining()
        except sqlite3.Error as error:
            if isinstance(error, PAGE_ERRORS) and self.group_intact():
                raise
            self.fail(error)

    def count(self, column: str) -> None:
        """One more of what the crawl_runs column counts, written with the write it counts: in the
        open group, else now, in the caller's transaction."""
        self.counts[column] += 1
        if not self.group_open:
            self._write_counts()

    def _write_counts(self) -> None:
        if self.counts:
            self.archive.add_run_counts(self.crawler.spider.crawl_run_id, self.counts)
            self.counts.clear()

    def group_intact(self) -> bool:
        """False when SQLite has rolled the open group back (it does on some errors: a full disk)."""
        return not self.group_open or self.archive.conn.in_transaction

    def commit(self, final: bool = False) -> None:
        """Commit the open group, if any, with its counts (`final`: the counts of what no group
        holds too, the pages fetched since the last); then archive_committed (every write so
        far is durable). A commit that fails stops the crawl (fail)."""
        if self.failure:
            return
        try:
            if self.group_open:
                if not self.archive.conn.in_transaction:
                    raise sqlite3.OperationalError("SQLite rolled back the open group of writes")
                self._write_counts()
                self.group_open = False
                self.committed_at = time.monotonic()
                self.archive.release()
            elif final and self.counts:
                with self.archive.transaction():
                    self._write_counts()
        except sqlite3.Error as error:
            self.fail(error)
            return
        self.crawler.signals.send_catch_log(archive_committed)

    def fail(self, error: sqlite3.Error, what: str = "the archive") -> None:
        """A write was refused (`what`: the archive, or the job state): the open group is lost
        (archive_rolled_back), nothing more is written, and the spider closes with STOPPED_REASON;
        its job state stays. The STOPPED_STAT stat says why, as `scrapy crawl` tells the user."""
        if self.failure:
            return
        self.failure = stopped_because(what, error)
        logger.error("The crawl stops: %s", self.failure)
        self.crawler.stats.set_value(STOPPED_STAT, self.failure)
        self.counts.clear()
        self.group_open = False
        if self._archive is not None:
            try:
                self._archive.discard()
            except sqlite3.Error:
                pass  # nothing of the group is committed either way
        self.crawler.signals.send_catch_log(archive_rolled_back)
        if self.crawler.crawling and self.crawler.engine.spider is not None:
            self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=STOPPED_REASON))

    def response_received(self) -> None:
        self.counts["pages_fetched"] += 1

    def item_error(self, item, response, spider, failure: Failure) -> None:
        """A pipeline's write failed: unless the page alone is at fault, the archive is."""
        error = failure.value
        if isinstance(error, sqlite3.Error) and not (isinstance(error, PAGE_ERRORS) and self.group_intact()):
            self.fail(error)

    def spider_opened(self, spider) -> None:
        if self.group_seconds > 0:
            self.grouping = True
            self.loop = task.LoopingCall(self.commit)
            self.loop.start(self.group_seconds, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        self.grouping = False
        if self.loop and self.loop.running:
            self.loop.stop()
        self.commit(final=True)

    def engine_stopped(self) -> None:
        if self._archive is not None:
            self.commit(final=True)
            self._archive.close()  # a checkpoint it cannot write leaves the WAL, which holds the commits
            self._archive = None
