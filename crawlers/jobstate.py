"""Crash-safe job state: a crawl killed at any moment resumes where it stopped with the same command.

Scrapy's JOBDIR keeps its queue in files it only completes on a clean shutdown, so a
SIGKILL can lose queued URLs. Here the state is a small SQLite file (JOB_STATE_PATH): the
run's id, and every URL whose outcome (article, copy, reject or fetch failure) is already
committed to the archive. A resumed run fetches the listings again, skips the finished
URLs and continues the same crawl run. URLs in flight at the kill are fetched again; the
archive's writes are idempotent, so they are not stored twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured

from crawlers.writer import ArchiveWriter, archive_committed, archive_rolled_back

SCHEMA = """
    CREATE TABLE IF NOT EXISTS runs (crawl_run_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS finished_urls (url TEXT PRIMARY KEY);
"""


def job_state_path(archive: Path, spider: str, topic_name: str) -> Path:
    """Where `clippings crawl` keeps a spider's job state for a topic: beside the archive."""
    return archive.parent / f"{archive.stem}.jobs" / f"{spider}-{topic_name}.sqlite"


class JobState:
    """One job state file; opened by the JobLog extension, read by JobDupeFilter."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.executescript(SCHEMA)

    def run_id(self) -> str | None:
        found = self.conn.execute("SELECT crawl_run_id FROM runs").fetchone()
        return found[0] if found else None

    def start(self, crawl_run_id: str) -> None:
        self.conn.execute("INSERT INTO runs (crawl_run_id) VALUES (?)", (crawl_run_id,))

    def finished_urls(self) -> set[str]:
        return {url for (url,) in self.conn.execute("SELECT url FROM finished_urls")}

    def finish_urls(self, urls: list[str]) -> None:
        with self.conn:  # one transaction: one fsync for the group
            self.conn.execute("BEGIN")
            self.conn.executemany("INSERT OR IGNORE INTO finished_urls (url) VALUES (?)", [(url,) for url in urls])

    def close(self) -> None:
        self.conn.close()

    def remove(self) -> None:
        """The job is complete: the next run with the same command is a new crawl."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()
        except OSError:
            pass  # another spider's unfinished job is in it


class JobLog:
    """Extension: continues the killed run's crawl_run_id, records each URL once its outcome
    is archived (item_scraped, item_dropped, then the commit of the group that holds it:
    crawlers/writer.py), and removes the state when the crawl finishes; not when it stopped
    because a write was refused (the archive's or its own), so that the same command resumes it."""

    def __init__(self, crawler: Crawler, path: str):
        self.crawler = crawler
        self.path = path
        self.state: JobState | None = None
        self.uncommitted: list[str] = []  # finished URLs whose outcome awaits the group's commit
        self.reason = ""  # why the spider closed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobLog:
        path = crawler.settings.get("JOB_STATE_PATH")
        if not path:
            raise NotConfigured
        extension = cls(crawler, path)
        # Connected before CrawlLog's handler (lower EXTENSIONS order), so the crawl_runs row
        # is written under the continued run's id.
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.url_finished, signal=signals.item_scraped)
        crawler.signals.connect(extension.url_finished, signal=signals.item_dropped)
        crawler.signals.connect(extension.archive_committed, signal=archive_committed)
        crawler.signals.connect(extension.archive_rolled_back, signal=archive_rolled_back)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    @property
    def writer(self) -> ArchiveWriter:
        return ArchiveWriter.of(self.crawler)

    def spider_opened(self, spider) -> None:
        try:
            self.state = JobState(self.path)
            if resumed := self.state.run_id():
                spider.crawl_run_id = resumed
                spider.logger.info("Resuming crawl run %s from %s", resumed, self.path)
                self.crawler.stats.set_value("clippings/resumed", 1)
            else:
                self.state.start(spider.crawl_run_id)
        except sqlite3.Error as error:
            self.writer.fail(error, f"its job state {self.path}")

    def url_finished(self, item, response, spider, exception=None) -> None:
        if self.writer.failure:
            return  # its outcome may be in the group the failure lost: the resumed crawl fetches it again
        if getattr(item, "listing", False):
            return  # a listing's entries are recorded nowhere: a resumed crawl reads it again
        if self.writer.grouping:
            self.uncommitted.append(item.url)
        else:
            self._finish([item.url])

    def archive_committed(self) -> None:
        if self.uncommitted:
            self._finish(self.uncommitted)
            self.uncommitted = []

    def _finish(self, urls: list[str]) -> None:
        try:
            self.state.finish_urls(urls)
        except sqlite3.Error as error:  # the archive holds their outcomes: a resumed crawl takes them back
            self.writer.fail(error, f"its job state {self.path}")

    def archive_rolled_back(self) -> None:
        """Those URLs' outcomes were lost: the resumed crawl fetches them again."""
        self.uncommitted = []

    def spider_closed(self, spider, reason: str) -> None:
        self.reason = reason

    def engine_stopped(self) -> None:
        """After every spider_closed handler, the run's last write (CrawlLog's) included."""
        if self.state is None:
            return
        if self.reason == "finished" and not self.writer.failure:
            self.state.remove()
        else:
            self.state.close()


class JobDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, plus: a URL finished in an earlier part of the run is not
    requested again. Redirect hops are never filtered, so a redirect loop ends at
    REDIRECT_MAX_TIMES as a logged failure instead of vanishing as a duplicate."""

    def __init__(self, *args, finished: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.finished = finished or set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDupeFilter:
        dupefilter = super().from_crawler(crawler)
        if path := crawler.settings.get("JOB_STATE_PATH"):
            if Path(path).exists():
                state = JobState(path)
                dupefilter.finished = state.finished_urls()
                state.close()
        return dupefilter

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("redirect_urls"):
            return False
        if request.url in self.finished:
            self.finished.discard(request.url)
            return True
        return super().request_seen(request)
