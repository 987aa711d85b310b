"""`clippings reextract`: every stored capture extracted again (nothing fetched), through the
crawl's code path, and the archive brought in line with what the extractor and topic now say.

Per capture, by what it was and what it gives now:
- its article, extracted the same: nothing changes;
- its article, extracted differently: the article is updated in place (same id and URL), with
  its mentions, keyword matches, search entry, line counts and story;
- its article, no longer an article, off-topic or outside the window: the article is withdrawn
  (with its copies) and the reason logged in rejects, with the capture, which stays;
- a linked copy: its title and dates follow; withdrawn if it no longer extracts;
- neither, and now an on-topic article: stored as the crawl would (dedupe, then article or copy),
  and its earlier rejects cleared.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.analysis import Failed, Outcome, Rejected
from pipelines.core.items import FetchedPage
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import Topic
from pipelines.store.archive import REEXTRACTED_COLUMNS, Archive, _article_row
from pipelines.store.pages import PageWriter, log_reject
from pipelines.workers.batch import Job, run_batches
from pipelines.workers.pool import ExtractionPool

SPIDER = "reextract"
READ_AHEAD = 256  # captures read per query
LISTING_SOURCES = ("feed", "sitemap")
EXAMPLES = 3  # per kind of change, in the summary


@dataclass
class Stored:
    """What the archive holds for a capture: its article or its copy, if any."""

    article: dict[str, Any] | None = None
    copy: dict[str, Any] | None = None


@dataclass
class ReextractSummary:
    changes: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    articles_before: int = 0
    articles_after: int = 0

    def note(self, kind: str, example: str | None = None) -> None:
        self.changes[kind] += 1
        if example and len(self.examples.setdefault(kind, [])) < EXAMPLES:
            self.examples[kind].append(example)


def reextract(
    archive: Archive, topic: Topic, pool: ExtractionPool, thresholds: Thresholds, recorded_settings: dict[str, Any] | None = None
) -> ReextractSummary:
    """`pool`: started, with the analysis_arguments of `topic` and `thresholds`.
    `recorded_settings`: what the run's crawl_runs row keeps of the settings in force
    (crawlers.addons.recorded_settings); the thresholds are always among them."""
    archive.sync_topic(topic)
    run_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{SPIDER}-{secrets.token_hex(2)}"  # as an import's
    # No user agent: a re-extraction fetches nothing (the datasheet leaves it out of its robots.txt count).
    archive.start_run(run_id, SPIDER, topic, "", False, {**(recorded_settings or {}), **thresholds.as_settings()})
    writer = ReextractWriter(archive, topic, thresholds)
    writer.summary.articles_before = _article_count(archive)
    run_batches(writer.jobs(), pool, writer.write)
    writer.summary.articles_after = _article_count(archive)
    archive.finish_run(run_id, "finished", {})
    return writer.summary


def _article_count(archive: Archive) -> int:
    return archive.count("articles")


class ReextractWriter:
    def __init__(self, archive: Archive, topic: Topic, thresholds: Thresholds):
        self.archive, self.topic, self.thresholds = archive, topic, thresholds
        self.pages = PageWriter(lambda: archive, topic, thresholds, SPIDER)
        self.summary = ReextractSummary()

    # --- reading: captures to jobs ----------------------------------------------

    def jobs(self) -> Iterator[Job]:
        """Every capture, in id order, read a slice at a time (the writer writes in between)."""
        last = 0
        while captures := self.archive.captures_after(last, READ_AHEAD):
            for capture in captures:
                last = capture["id"]
                yield self._job(capture)

    def _stored(self, capture_id: int) -> Stored:
        return Stored(article=self.archive.article_of_capture(capture_id), copy=self.archive.copy_of_capture(capture_id))

    def _job(self, capture: dict[str, Any]) -> Job:
        stored = self._stored(capture["id"])
        page = FetchedPage(
            url=capture["url"],
            final_url=capture["final_url"],
            status=capture["status"],
            headers=json.loads(capture["headers"]),
            body=self.archive.capture_body(capture["id"]),
            fetched_at=capture["fetched_at"],
            spider=capture["spider"],
            crawl_run_id=capture["crawl_run_id"],
            source=capture["source"],
            archived_at=capture["archived_at"],
            record_file=capture["record_file"],
            record_offset=capture["record_offset"],
            record_length=capture["record_length"],
            listing_dates=_listing_dates(stored.article),
            capture_id=capture["id"],
            capture_is_new=False,
        )
        return Job(page, self.pages.boilerplate(self.pages.outlet(page), _own_text(stored)))

    # --- writing: one transaction per batch -------------------------------------

    def write(self, batch: list[tuple[Job, Outcome]]) -> None:
        with self.archive.transaction():
            for job, outcome in batch:
                self._store(job, outcome)

    def _store(self, job: Job, outcome: Outcome) -> None:
        # Read again now: an earlier page of this batch or the last may have changed it (a
        # withdrawn article takes its copies with it; line counts move).
        page = job.page
        stored = self._stored(page.capture_id)
        outcome = self.pages.reanalysed(outcome, job.boilerplate, _own_text(stored))
        if isinstance(outcome, Failed):
            self.summary.note("errors", f"capture {page.capture_id} {outcome.url}: {outcome.error}")
        elif stored.article:
            self._store_article(stored.article, page, outcome)
        elif stored.copy:
            self._store_copy(stored.copy, outcome)
        elif isinstance(outcome, Rejected):
            self.summary.note("still_rejected")
        else:
            self._store_new(outcome)

    def _store_article(self, article: dict[str, Any], page: FetchedPage, outcome: FetchedPage | Rejected) -> None:
        where = f"article {article['id']} {article['url']}"
        if isinstance(outcome, Rejected):
            self.archive.withdraw_article(article["id"])
            log_reject(self.archive, page, outcome, SPIDER, None, article["url"])
            self.summary.note("withdrawn", f"{where}: {outcome.reason}")
            return
        outcome.canonical_url = article["url"]
        changed = _changes(article, _article_row(outcome, self.topic))
        if not changed:
            self.summary.note("unchanged")
            return
        try:
            self.archive.update_article(article["id"], outcome, self.topic, self.thresholds.story_similarity)
        except sqlite3.IntegrityError:
            other = self.archive.article_by_text(outcome.article.text_sha256)
            self.summary.note("conflicts", f"{where}: its new text is article {other['id']}'s; left as it was")
            return
        for kind in sorted({_kind(column) for column in changed}):
            self.summary.note(
                kind, f"{where}: " + "; ".join(_describe(c, article[c], v) for c, v in changed.items() if _kind(c) == kind)
            )

    def _store_copy(self, copy: dict[str, Any], outcome: FetchedPage | Rejected) -> None:
        if isinstance(outcome, Rejected):
            self.archive.remove_copy(copy["id"])
            self.summary.note("copies_withdrawn", f"copy {copy['id']} {copy['url']}: {outcome.reason}")
            return
        published = outcome.article.published
        now = {
            "title": outcome.article.title,
            "published_at": published.value,
            "published_day": published.day,
            "published_utc_day": published.utc_day,
        }
        if any(copy[k] != v for k, v in now.items()):
            self.archive.update_copy(copy["id"], outcome)
            self.summary.note("copies_updated", f"copy {copy['id']} {copy['url']}")
        else:
            self.summary.note("unchanged")

    def _store_new(self, page: FetchedPage) -> None:
        """A capture that now yields an article: the crawl's dedupe and store."""
        with self.archive.transaction():
            result = self.pages.stored(page)
            if result != "articles_unchanged":
                self.archive.forget_rejects(page.capture_id)
        kind = {"articles_added": "articles_added", "copies_added": "copies_added"}.get(result, "unchanged")
        self.summary.note(kind, f"capture {page.capture_id} {page.canonical_url}" if kind != "unchanged" else None)


def _own_text(stored: Stored) -> str | None:
    """The capture's archived article's text: its own lines are not its boilerplate (Archive.boilerplate)."""
    return stored.article["text"] if stored.article else None


def _listing_dates(article: dict[str, Any] | None) -> dict[str, str]:
    """The dates feeds and sitemaps gave when the article was crawled (kept among its candidates)."""
    if article is None:
        return {}
    candidates = json.loads(article["date_candidates"] or "[]")
    return {c["source"]: c["value"] for c in candidates if c.get("source") in LISTING_SOURCES}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {column: new[column] for column in REEXTRACTED_COLUMNS if old[column] != new[column]}


KINDS = {
    "text": ("text", "word_count", "text_sha256", "text_flags"),
    "dates": (
        "published_at",
        "published_day",
        "published_utc_day",
        "published_source",
        "date_candidates",
        "modified_at",
        "date_trusted",
    ),
    "relevance": ("keywords", "people", "relevance"),
    "extractor": ("extractor",),
}


def _kind(column: str) -> str:
    return next((f"{kind}_changed" for kind, columns in KINDS.items() if column in columns), "metadata_changed")


def _describe(column: str, old: Any, new: Any) -> str:
    if column in ("text", "date_candidates", "relevance"):
        return f"{column} changed"
    return f"{column} {old!r} -> {new!r}"
