"""`clippings import`: pages from web archive files through the crawl's own code path
(pipelines/core/analysis.py), analysed on workers, stored by one writer, with a record per file.

Each file's import_files row is written with each batch, in the batch's transaction: its counts
are those of what is stored (the reader runs ahead of the writer; what it read beyond the last
stored page is not counted), so after a kill or Ctrl-C the row still describes the archive.
Its status says how far the file got: `incomplete` (being read, or the import was killed),
`interrupted` (stopped by Ctrl-C or an error), `unreadable`, `complete` or `with errors` (read
to its end, with damaged records or failed pages reported in `problems`)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.core.addresses import AddressPolicy
from pipelines.core.analysis import Failed, Outcome
from pipelines.core.items import FetchedPage
from pipelines.core.prefilter import Prefilter
from pipelines.core.thresholds import Thresholds, setting_number
from pipelines.core.topic import Topic
from pipelines.sources.downloads import DownloadLimits
from pipelines.sources.warcs import (
    PROBLEMS_LISTED,
    READ_COUNTS,
    ArchiveFileError,
    FileReport,
    MemberError,
    Provenance,
    ReadLimits,
    describe,
    local_copy,
    open_member,
    read_pages,
    warc_members,
)
from pipelines.store.archive import Archive, utc_now
from pipelines.store.pages import PageWriter
from pipelines.workers.batch import Job, run_batches
from pipelines.workers.pool import ExtractionPool

SPIDER = "import"
WRITE_COUNTS = ("articles_added", "copies_added", "versions_added", "articles_unchanged", "rejects", "errors")
FILE_COUNTS = READ_COUNTS + WRITE_COUNTS
# A file read to its end: with the same topic, importing it again would add nothing.
READ_TO_THE_END = ("complete", "with errors")


@dataclass(frozen=True)
class ImportSettings:
    """What the import needs besides its inputs, from the crawl's Scrapy settings."""

    thresholds: Thresholds
    user_agent: str
    workers: int  # EXTRACTION_WORKERS: the default of --workers
    read: ReadLimits
    download: DownloadLimits
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    prefilter: bool = True
    commoncrawl_data_url: str = ""  # for --cc-news
    capture_margin_days: int = 0  # ditto: files up to this many days after the window
    recorded: dict[str, Any] = field(default_factory=dict)  # the settings the run records besides the thresholds

    @classmethod
    def from_settings(
        cls, settings, prefilter: bool = True, allowed: tuple[str, ...] = (), recorded: dict[str, Any] | None = None
    ) -> ImportSettings:
        """From a scrapy.settings.Settings (crawlers/settings.py and -s overrides); `allowed`
        adds networks (--allow-network) to ALLOWED_PRIVATE_NETWORKS; `recorded`: the settings
        the run's crawl_runs row keeps (crawlers.addons.recorded_settings)."""
        return cls(
            thresholds=Thresholds.from_settings(settings),
            user_agent=settings["USER_AGENT"],
            workers=setting_number(settings, "EXTRACTION_WORKERS"),
            read=ReadLimits(setting_number(settings, "DOWNLOAD_MAXSIZE", 1), setting_number(settings, "WARC_MAX_INFLATION", 1)),
            download=DownloadLimits(
                setting_number(settings, "IMPORT_DOWNLOAD_TIMEOUT", 1, float),
                setting_number(settings, "IMPORT_DOWNLOAD_MAXSIZE", 1),
            ),
            policy=AddressPolicy([*settings.getlist("ALLOWED_PRIVATE_NETWORKS"), *allowed]),
            prefilter=prefilter,
            commoncrawl_data_url=settings["COMMONCRAWL_DATA_URL"],
            capture_margin_days=setting_number(settings, "ARCHIVE_CAPTURE_MARGIN_DAYS"),
            recorded=recorded or {},
        )


@dataclass
class ImportSummary:
    run_id: str
    files: list[FileReport]
    skipped: list[str] = field(default_factory=list)  # read to their end before, with the same topic

    @property
    def totals(self) -> Counter:
        return sum((f.counts for f in self.files), Counter())

    @property
    def has_errors(self) -> bool:
        return any(f.has_problems() for f in self.files)


def import_archives(
    locations: list[str], archive: Archive, topic: Topic, pool: ExtractionPool, settings: ImportSettings, skip_read: bool = False
) -> ImportSummary:
    """Import every file (path or URL) as one run; each file gets an import_files row. With
    skip_read, a file an earlier run read to its end with the same topic is not read again.
    `pool`: started, with the analysis_arguments of `topic` and settings.thresholds."""
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{SPIDER}-{secrets.token_hex(2)}"
    archive.sync_topic(topic)
    archive.start_run(
        run_id, SPIDER, topic, settings.user_agent, False, {**settings.recorded, **settings.thresholds.as_settings()}
    )
    writer = ImportWriter(archive, topic, run_id, settings)
    summary = ImportSummary(run_id, [])
    reason = "interrupted"
    try:
        for location in locations:
            location = location if "://" in location else str(Path(location).resolve())
            if skip_read and writer.read_before(location):
                writer.skip_file(location)
                summary.skipped.append(location)
                continue
            report = FileReport(location)
            summary.files.append(report)
            writer.import_file(report, pool)
        reason = "finished"
    finally:
        archive.finish_run(run_id, reason, {})  # its counts are written with each batch
    return summary


class ImportWriter:
    """The writer's side: turns pages into jobs (takedowns, boilerplate) and stores outcomes,
    by the steps of pipelines/store/pages.py (PageWriter)."""

    def __init__(self, archive: Archive, topic: Topic, run_id: str, settings: ImportSettings):
        self.archive, self.topic, self.settings = archive, topic, settings
        self.run_id = run_id
        self.provenance = Provenance(run_id, SPIDER)
        self.prefilter = Prefilter.for_topic(topic) if settings.prefilter else None
        self.pages = PageWriter(lambda: archive, topic, settings.thresholds, SPIDER, run_id)
        self.report, self.file_id = FileReport(""), 0
        self.marks: deque[tuple[Job, tuple[Counter, int]]] = deque()  # what reading had counted at each job
        self.stored_mark: tuple[Counter, int] = (Counter(), 0)  # ... at the last stored job
        self.finished = Counter()  # the counts of the files done

    def read_before(self, location: str) -> bool:
        return self.archive.imported_before(location, READ_TO_THE_END, self.topic.sha256)

    def skip_file(self, location: str) -> None:
        self.archive.add_import_file(self.run_id, location, "already imported", finished=True)

    def import_file(self, report: FileReport, pool: ExtractionPool) -> None:
        self._start_file(report)
        status = "interrupted"
        try:
            run_batches(self._jobs(report), pool, self.write)
            status = "with errors" if report.has_problems() else "complete"
        except ArchiveFileError as error:
            report.unreadable(str(error))
            status = "unreadable"
        finally:
            self._finish_file(report, status)

    # --- reading: pages to jobs ------------------------------------------------

    def _jobs(self, report: FileReport) -> Iterator[Job]:
        with local_copy(report.location, self.settings.policy, self.settings.user_agent, self.settings.download) as path:
            for member in warc_members(path):
                yield from self._member_jobs(report, path, member)

    def _member_jobs(self, report: FileReport, path: Path, member: str | None) -> Iterator[Job]:
        record_file = report.location if member is None else f"{report.location}#{member}"
        try:
            with open_member(path, member, self.settings.read.max_inflation) as stream:
                for page in read_pages(stream, record_file, member, report, self.prefilter, self.provenance, self.settings.read):
                    if job := self._job(page, report):
                        self.marks.append((job, report.reading_mark()))
                        yield job
        except MemberError as error:
            report.damaged(member, None, str(error))

    def _job(self, page: FetchedPage, report: FileReport) -> Job | None:
        if self.pages.taken_down(page):
            report.counts["takedowns_skipped"] += 1
            return None
        return Job(page, self.pages.boilerplate(self.pages.outlet(page)))

    # --- writing: one transaction per batch, with the file's counts -------------

    def write(self, batch: list[tuple[Job, Outcome]]) -> None:
        mark = self._mark_of(batch[-1][0])
        counts, failures = Counter(), []
        with self.archive.transaction():
            for job, outcome in batch:
                counts[self._store(job, outcome, failures)] += 1
            self._save(self._stored_counts(mark, counts), self._stored_problems(mark, failures))
        self.report.counts.update(counts)
        self.report.failures.extend(failures)
        self.stored_mark = mark

    def _mark_of(self, job: Job) -> tuple[Counter, int]:
        while True:
            marked, mark = self.marks.popleft()
            if marked is job:
                return mark

    def _store(self, job: Job, outcome: Outcome, failures: list[dict]) -> str:
        """The writer's steps for one page (PageWriter.write); returns what happened to it."""
        written = self.pages.write(job.page, outcome, job.boilerplate)
        if not isinstance(written, Failed):
            return written
        if len(self.report.failures) + len(failures) < PROBLEMS_LISTED:
            failures.append(
                {"member": None, "offset": job.page.record_offset, "error": describe(f"{written.url}: {written.error}")}
            )
        return "errors"

    # --- the import_files and crawl_runs rows -----------------------------------

    def _start_file(self, report: FileReport) -> None:
        self.report, self.marks, self.stored_mark = report, deque(), (Counter(), 0)
        self.file_id = self.archive.add_import_file(self.run_id, report.location, "incomplete")

    def _stored_counts(self, mark: tuple[Counter, int], written: Counter = Counter()) -> Counter:
        """The file's counts as far as stored: reading's at the last stored page, and the writer's."""
        return mark[0] + Counter({name: self.report.counts[name] for name in WRITE_COUNTS}) + written

    def _stored_problems(self, mark: tuple[Counter, int], failures: list[dict] = ()) -> list[dict]:
        return self.report.damage[: mark[1]] + self.report.failures + list(failures)

    def _save(self, counts: Counter, problems: list[dict], **extra) -> None:
        """The file's row and the run's counts, in the caller's transaction."""
        row = {name: counts[name] for name in FILE_COUNTS}
        if unlisted := counts["damaged"] + counts["errors"] - len(problems):
            problems = [*problems, {"member": None, "offset": None, "error": f"and {unlisted} more, not listed"}]
        row.update(problems=json.dumps(problems, ensure_ascii=False), **extra)
        self.archive.update_import_file(self.file_id, row)
        self.archive.set_run_counts(self.run_id, _run_row(self.finished + counts))

    def _finish_file(self, report: FileReport, status: str) -> None:
        """Read to its end (or found unreadable): everything counted. Interrupted: the row keeps
        the counts of what is stored, written with the last batch."""
        with self.archive.transaction():
            if status == "interrupted":
                self.archive.update_import_file(self.file_id, {"status": status, "finished_at": utc_now()})
                return
            self._save(report.counts, report.problems, status=status, finished_at=utc_now())
        self.finished += report.counts


def _run_row(counts: Counter) -> dict[str, int]:
    return {
        "pages_fetched": counts["pages"],
        "articles_added": counts["articles_added"],
        "copies_added": counts["copies_added"],
        "rejects": counts["rejects"],
    }
