"""`clippings import`: pages from web archive files through the crawl's own code path
(pipelines/processing.py), analysed on workers, stored by one writer, with a record per file."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clippings.topic import Topic
from crawlers.items import FetchedPage
from crawlers.safety import AddressPolicy
from pipelines.archive import Archive, utc_now
from pipelines.batch import Failed, Job, Outcome, analyse_one, run_batches
from pipelines.extraction import MIN_ARTICLE_WORDS
from pipelines.prefilter import Prefilter
from pipelines.processing import Rejected, capture_page, dedupe_page, store_page
from pipelines.relevance import TopicMatcher
from pipelines.takedowns import Takedowns
from pipelines.warcs import (
    ArchiveFileError, FileReport, Provenance, local_copy, open_member, read_pages, warc_members,
)

SPIDER = "import"
FILE_COUNTS = (
    "records", "pages", "prefiltered_out", "skipped_not_response", "skipped_revisit", "skipped_status",
    "skipped_not_html", "skipped_too_large", "takedowns_skipped", "articles_added", "copies_added",
    "articles_unchanged", "rejects", "damaged", "errors",
)


@dataclass
class ImportSettings:
    """What the import needs besides its inputs; the defaults are the crawl's settings."""

    min_words: int = MIN_ARTICLE_WORDS
    boilerplate_min_articles: int = 3
    prefilter: bool = True
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    user_agent: str = "clippings"


@dataclass
class ImportSummary:
    run_id: str
    files: list[FileReport]

    @property
    def totals(self) -> Counter:
        return sum((f.counts for f in self.files), Counter())

    @property
    def has_errors(self) -> bool:
        return any(f.damage for f in self.files)


def import_archives(locations: list[str], archive: Archive, topic: Topic, runner,
                    settings: ImportSettings | None = None) -> ImportSummary:
    """Import every file (path or URL) as one run; each file gets an import_files row."""
    settings = settings or ImportSettings()
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{SPIDER}-{secrets.token_hex(2)}"
    archive.sync_topic(topic)
    archive.start_run(run_id, SPIDER, topic, settings.user_agent, False)
    writer = ImportWriter(archive, topic, run_id, settings)
    summary = ImportSummary(run_id, [])
    reason = "interrupted"
    try:
        for location in locations:
            report = FileReport(location if "://" in location else str(Path(location).resolve()))
            summary.files.append(report)
            writer.import_file(report, runner)
        reason = "finished"
    finally:
        totals = summary.totals
        archive.finish_run(run_id, reason, {
            "pages_fetched": totals["pages"], "articles_added": totals["articles_added"],
            "copies_added": totals["copies_added"], "rejects": totals["rejects"],
        })
    return summary


class ImportWriter:
    """The writer's side: turns pages into jobs (takedowns, boilerplate) and stores outcomes."""

    def __init__(self, archive: Archive, topic: Topic, run_id: str, settings: ImportSettings):
        self.archive, self.topic, self.settings = archive, topic, settings
        self.provenance = Provenance(run_id, SPIDER)
        self.prefilter = Prefilter.for_topic(topic) if settings.prefilter else None
        self.matcher = TopicMatcher(topic)
        self.takedowns, self.latest_takedown = Takedowns([]), None
        self.reports: dict[str, FileReport] = {}

    def import_file(self, report: FileReport, runner) -> None:
        file_id = self._start_file(report.location)
        try:
            run_batches(self._jobs(report), runner, self.topic.text, self.write, self.settings.min_words)
        except ArchiveFileError as error:
            report.unreadable(str(error))
        finally:
            self._finish_file(file_id, report)

    # --- reading: pages to jobs ------------------------------------------------

    def _jobs(self, report: FileReport) -> Iterator[Job]:
        with local_copy(report.location, self.settings.policy, self.settings.user_agent) as path:
            for member in warc_members(path):
                record_file = report.location if member is None else f"{report.location}#{member}"
                self.reports[record_file] = report
                with open_member(path, member) as stream:
                    for page in read_pages(stream, record_file, member, report, self.prefilter, self.provenance):
                        if job := self._job(page, report):
                            yield job

    def _job(self, page: FetchedPage, report: FileReport) -> Job | None:
        self._refresh_takedowns()
        if self.takedowns.covers(page.url):
            report.counts["takedowns_skipped"] += 1
            return None
        outlet = self.topic.outlet_for(page.final_url)
        page.outlet_id = outlet.id if outlet else None
        return Job(page, self._boilerplate(page.outlet_id))

    def _refresh_takedowns(self) -> None:
        latest = self.archive.row("SELECT max(id) AS id FROM takedowns")["id"]
        if latest != self.latest_takedown:
            self.takedowns, self.latest_takedown = Takedowns(self.archive.takedown_patterns()), latest

    def _boilerplate(self, outlet_id: str | None) -> frozenset[str]:
        return self.archive.boilerplate(outlet_id, self.settings.boilerplate_min_articles)

    # --- writing: one transaction per batch -------------------------------------

    def write(self, batch: list[tuple[Job, Outcome]]) -> None:
        with self.archive.transaction():
            for job, outcome in batch:
                report = self.reports[job.page.record_file]
                report.counts[self._store(job, outcome, report)] += 1

    def _store(self, job: Job, outcome: Outcome, report: FileReport) -> str:
        """The crawl's writer steps for one page; returns what happened to it."""
        if isinstance(outcome, Failed):
            report.problem(None, job.page.record_offset, f"{outcome.url}: {outcome.error}")
            return "errors"
        if isinstance(outcome, Rejected) and outcome.stage == "respect":
            return self._reject(job.page, outcome)  # not captured, as in the crawl
        page = outcome if isinstance(outcome, FetchedPage) else job.page
        capture_page(self.archive, self.topic, page)
        if isinstance(outcome, FetchedPage) and self._boilerplate(page.outlet_id) != job.boilerplate:
            outcome = analyse_one(page, self.matcher, self.settings.min_words, self._boilerplate(page.outlet_id))
            if isinstance(outcome, Failed):
                return self._store(job, outcome, report)
        if isinstance(outcome, Rejected):
            return self._reject(page, outcome)
        try:
            dedupe_page(self.archive, page)
        except Rejected as reject:
            return self._reject(page, reject)
        return store_page(self.archive, self.topic, page)

    def _reject(self, page: FetchedPage, reject: Rejected) -> str:
        self.archive.log_reject(page.url, reject.stage, reject.reason, SPIDER, page.crawl_run_id, page.capture_id)
        return "rejects"

    # --- the import_files row --------------------------------------------------

    def _start_file(self, location: str) -> int:
        with self.archive.transaction():
            table = self.archive.db["import_files"].insert(
                {"crawl_run_id": self.provenance.crawl_run_id, "location": location, "started_at": utc_now()}
            )
        return table.last_pk

    def _finish_file(self, file_id: int, report: FileReport) -> None:
        status = "complete" if not report.damage else "with errors"
        row = {name: report.counts[name] for name in FILE_COUNTS}
        row.update(finished_at=utc_now(), status=status, problems=json.dumps(report.damage, ensure_ascii=False))
        with self.archive.transaction():
            self.archive.db["import_files"].update(file_id, row)
