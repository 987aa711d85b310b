"""`scrapy crawl`, as Scrapy's, plus: one crawl of a spider into an archive at a time, and a
non-zero exit with one sentence when the crawl stopped because a write was refused."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from pathlib import Path

from scrapy.commands import crawl
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from crawlers.crawllock import CrawlLock, CrawlRunning
from crawlers.jobstate import JobState
from crawlers.writer import STOPPED_STAT, ArchiveWriter
from pipelines.core.thresholds import Thresholds
from pipelines.store.archive import Archive, ArchiveError

# Exit statuses `clippings crawl` knows: the sentence is already on stderr.
EXIT_STOPPED = 3  # a write was refused (a full disk): the job state is kept, the same command resumes
EXIT_BUSY = 4  # another crawl of the spider is writing to the archive
EXIT_SETTINGS = 5  # a resume asked for other research thresholds than the run applied so far

logger = logging.getLogger(__name__)


class Command(crawl.Command):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage error
            return
        # A log file on a full disk must not print a traceback per message: the user is told below.
        logging.raiseExceptions = False
        crawler = self._create_crawler(args[0])
        lock = CrawlLock(Path(crawler.settings["ARCHIVE_PATH"]).resolve(), args[0])
        try:
            if writes_archive(crawler.settings):  # not rehydrate, which writes the release it reads
                lock.acquire()
        except CrawlRunning as running:
            self.refuse(str(running), EXIT_BUSY)
            return
        except OSError as error:
            self.refuse(f"cannot create the crawl's lock {lock.path} ({error.strerror}); is the archive's folder writable?", 1)
            return
        if (job_state := crawler.settings.get("JOB_STATE_PATH")) and Path(job_state).exists():
            if changed := changed_thresholds(crawler.settings, Path(job_state)):
                lock.release()
                self.refuse(
                    f"the interrupted {args[0]} crawl applied {changed}: resume it with the same research settings, "
                    f"or remove its job state {job_state} to start a new run",
                    EXIT_SETTINGS,
                )
                return
            sys.stderr.write(f"Resuming the interrupted {args[0]} crawl ({job_state})\n")
        try:
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


def changed_thresholds(settings: Settings, job_state: Path) -> str:
    """The research thresholds the interrupted run recorded where this command asks for others,
    as "NAME=recorded (not asked)"; empty when they agree, or when nothing was recorded. One run
    applies one set of thresholds: its datasheet reports them."""
    try:
        state = JobState(job_state)
        try:
            run_id = state.run_id()
        finally:
            state.close()
        archive = Archive(settings["ARCHIVE_PATH"], read_only=True)
    except (sqlite3.Error, ArchiveError):  # the crawl itself says what is wrong with either
        return ""
    try:
        recorded = archive.run_settings(run_id) if run_id else None
    finally:
        archive.close()
    asked = Thresholds.from_settings(settings).as_settings()
    return ", ".join(
        f"{name}={recorded[name]} (not {value})"
        for name, value in asked.items()
        if recorded and recorded.get(name, value) != value
    )


def writes_archive(settings: Settings) -> bool:
    """The spider's crawl writes the archive at ARCHIVE_PATH (its extensions include the writer)."""
    return any(load_object(c) is ArchiveWriter for c in build_component_list(settings.getwithbase("EXTENSIONS")))
