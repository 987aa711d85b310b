"""The writer's part of one page's code path, on one archive connection: the one order the crawl's
item pipelines, `clippings import` and `clippings reextract` all follow (PageWriter), around the
analysis of pipelines/core/analysis.py."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cached_property

from pipelines.core.analysis import Failed, Outcome, Rejected, analyse_one
from pipelines.core.canonical import canonical_url
from pipelines.core.extraction import drop_known_lines, normalised_text
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.takedowns import Takedowns
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import Topic
from pipelines.store.archive import Archive


class PageWriter:
    """One page's steps on the writer's side, in this order:

    1. taken_down: a page at a URL a takedown covers is dropped before anything is recorded (the
       takedowns table accounts for it). The patterns are read again whenever a takedown was
       added since, so one added while a crawl or an import runs applies from then on.
    2. respect (pipelines/core/analysis.py, check_respect, the analysis's first step): a page that
       asks not to be archived (noarchive) is rejected and not captured, not even raw.
    3. capture: the raw page, compressed, with its provenance.
    4. analyse: pipelines/core/analysis.py, in a worker (pipelines/workers/pool.py), with the
       boilerplate of the page's outlet as the writer read it; reanalysed() runs it again, here,
       when the outlet's boilerplate changed while the page was out.
    5. reject: a page that is not (or not again) an on-topic article is logged in `rejects`,
       with its capture.
    6. dedupe: a new article, a copy, a new version, or nothing new.
    7. store, one transaction with the counts of what it stores.

    `clippings import` runs all of it after the analysis, in write(): a batch's pages are written
    in one transaction, which a kill cannot cut in half. The crawl's item pipelines
    (crawlers/stages.py) run each step as its own pipeline and capture before the analysis:
    the capture is in the archive while the page is analysed (a crawl killed mid-analysis keeps
    it, as it keeps every page it fetched), and an outlet's compression dictionary is trained
    meanwhile. The crawl does not reanalyse: its pages in flight at the same time do not see each
    other's boilerplate lines (at most CONCURRENT_ITEMS of them). `clippings reextract` reads
    pages already captured, and updates or withdraws the articles they gave; a capture that
    now gives an article takes steps 6 and 7 (stored()).
    """

    def __init__(
        self, archive: Callable[[], Archive], topic: Topic, thresholds: Thresholds, spider: str, run_id: str | None = None
    ):
        """`archive`: the connection to write on, called for each step (the crawl's opens a group
        of writes on demand, crawlers/writer.py). `spider` and `run_id`: what rejects are logged
        with (a crawl's pages carry their own run)."""
        self.connection, self.topic, self.thresholds = archive, topic, thresholds
        self.spider, self.run_id = spider, run_id
        self.takedowns, self.latest_takedown = Takedowns([]), None

    @property
    def archive(self) -> Archive:
        return self.connection()

    @cached_property
    def matcher(self) -> TopicMatcher:
        return TopicMatcher(self.topic)

    def taken_down(self, page: FetchedPage) -> str | None:
        """The takedown pattern covering the page's URL (or the URL it was redirected to), if any."""
        latest = self.archive.latest_takedown()
        if latest != self.latest_takedown:
            self.takedowns, self.latest_takedown = Takedowns(self.archive.takedown_patterns()), latest
        urls = (page.url, getattr(page, "final_url", None))  # a fetch failure has no final URL
        return next(filter(None, (self.takedowns.covers(url) for url in urls if url)), None)

    def outlet(self, page: FetchedPage) -> str | None:
        """Sets the page's outlet_id (as capture does), for reading its boilerplate before capture."""
        outlet = self.topic.outlet_for(page.final_url)
        page.outlet_id = outlet.id if outlet else None
        return page.outlet_id

    def capture(self, page: FetchedPage, train_dictionaries: bool = True) -> None:
        capture_page(self.archive, self.topic, page, train_dictionaries)

    def boilerplate(self, outlet_id: str | None, own_text: str | None = None) -> frozenset[str]:
        """The outlet's boilerplate as archived now (Archive.boilerplate)."""
        return self.archive.boilerplate(outlet_id, self.thresholds.boilerplate_min_articles, own_text)

    def reanalysed(self, outcome: Outcome, sent: frozenset[str], own_text: str | None = None) -> Outcome:
        """The analysis's outcome, or a new one when the outlet's boilerplate is no longer the one
        sent with the page (an earlier page of the same batch made a line cross the threshold):
        the archive is then the one a single process reading the pages in order would build."""
        if not isinstance(outcome, FetchedPage):
            return outcome
        boilerplate = self.boilerplate(outcome.outlet_id, own_text)
        if boilerplate == sent:
            return outcome
        return analyse_one(outcome, self.matcher, self.thresholds, boilerplate)

    def reject(self, page: FetchedPage, reject: Rejected) -> bool:
        """Logged in `rejects` (see log_reject), under the writer's run or else the page's."""
        run_id = self.run_id if self.run_id is not None else page.crawl_run_id
        return log_reject(self.archive, page, reject, self.spider, run_id)

    def dedupe(self, page: FetchedPage) -> None:
        dedupe_page(self.archive, page)

    def store(self, page: FetchedPage, counted: Callable[[str], None] | None = None) -> str:
        """One transaction (a savepoint in the caller's); returns what happened: articles_added,
        copies_added, versions_added or articles_unchanged, which `counted` is given inside it
        (the crawl writes its run's counts with what they count)."""
        archive = self.archive  # once: the crawl's may open a group of writes on each call
        with archive.transaction():
            stored = store_page(archive, self.topic, page, self.thresholds)
            if counted:
                counted(stored)
        return stored

    def stored(self, page: FetchedPage) -> str:
        """Dedupe and store, for a page known to be an on-topic article."""
        self.dedupe(page)
        return self.store(page)

    def write(self, page: FetchedPage, outcome: Outcome, sent: frozenset[str]) -> str | Failed:
        """Steps 2 to 7 for a page analysed elsewhere (`outcome`) with the boilerplate `sent`:
        what happened to it (rejects, or as store), or its failure. In the caller's transaction."""
        if isinstance(outcome, Rejected) and outcome.stage == "respect":
            self.reject(page, outcome)  # not captured
            return "rejects"
        if isinstance(outcome, Failed):
            return outcome
        page = outcome if isinstance(outcome, FetchedPage) else page
        if page.capture_id is None:
            self.capture(page)
        outcome = self.reanalysed(outcome, sent)
        if isinstance(outcome, Failed):
            return outcome
        if isinstance(outcome, Rejected):
            self.reject(page, outcome)
            return "rejects"
        return self.stored(page)


def log_reject(
    archive: Archive, page: FetchedPage, reject: Rejected, spider: str, run_id: str | None, url: str | None = None
) -> bool:
    """One row per URL and stage, with the page's capture if it has one (Archive.log_reject);
    False when this run had logged it already (a resumed part seeing it again)."""
    return archive.log_reject(url or page.url, reject.stage, reject.reason, spider, run_id, page.capture_id)


def capture_page(archive: Archive, topic: Topic, page: FetchedPage, train_dictionaries: bool = True) -> None:
    """Keep the raw page (compressed) with its provenance; sets capture_id and outlet_id.
    `train_dictionaries`: see Archive.add_capture."""
    outlet = topic.outlet_for(page.final_url)
    page.outlet_id = outlet.id if outlet else None
    page.content_sha256 = hashlib.sha256(page.body).hexdigest()
    page.capture_id, page.capture_is_new = archive.add_capture(page, page.content_sha256, train_dictionaries)


def dedupe_page(archive: Archive, page: FetchedPage) -> None:
    """One article per canonical URL; identical text on another URL becomes a linked copy; a
    text the article's URL has not given before is a new version of it (an update, a correction).
    Sets canonical_url, and unchanged, version_of or duplicate_of."""
    page.canonical_url = canonical_url(page.final_url, page.article.canonical_hint)
    text_sha256 = page.article.text_sha256
    if known := archive.article_by_url(page.canonical_url):
        if _shown_before(archive, known, page):
            page.unchanged = True
        else:
            page.version_of = known["id"]
    elif archive.copy_by_url(page.canonical_url):
        page.unchanged = True
    elif original := archive.article_by_text(text_sha256):
        page.duplicate_of = original["id"]


def _shown_before(archive: Archive, article: dict, page: FetchedPage) -> bool:
    """The page shows nothing the article's URL has not: a text it gave, or a body it gave (the
    same capture extracted again: a text that differs only by how it was extracted, e.g. once a
    line became the outlet's boilerplate, is no new version), or a text it gave but for lines
    that are boilerplate now (the page's bytes changed elsewhere: a timestamp, an ad slot)."""
    text_sha256 = page.article.text_sha256
    if article["text_sha256"] == text_sha256 or archive.version_by_text(article["id"], text_sha256):
        return True
    if page.content_sha256 and archive.body_shown(article["id"], page.content_sha256):
        return True
    return bool(page.boilerplate) and any(
        _text_sha256(drop_known_lines(text, page.boilerplate)) == text_sha256 for text in archive.texts_shown(article["id"])
    )


def _text_sha256(text: str) -> str:
    """As Article.text_sha256."""
    return hashlib.sha256(normalised_text(text).encode()).hexdigest()


def store_page(archive: Archive, topic: Topic, page: FetchedPage, thresholds: Thresholds) -> str:
    """Write the article (or the copy, or the version) with its mentions, one transaction;
    returns what happened: articles_added, copies_added, versions_added or articles_unchanged.

    The earliest-published copy of a text is the article; later ones link to it. A copy
    that turns out to be older than the archived article takes its place. Copies published the
    same day are ordered by URL, so the archive does not depend on which page finished
    extracting first (pages are extracted concurrently, pipelines/workers/pool.py). Of the versions at
    one URL, the earliest captured is the article's text (Archive.add_version). A new article
    joins the story of texts at least `thresholds.story_similarity` like it.
    """
    if page.unchanged:
        return "articles_unchanged"
    if page.version_of is not None:
        archive.add_version(page, page.version_of, topic)
        return "versions_added"
    if page.duplicate_of is None:
        archive.add_article(page, topic, thresholds.story_similarity)
        return "articles_added"
    original = archive.article_by_text(page.article.text_sha256)
    if _earlier((page.article.published.day, page.canonical_url), (original["published_day"], original["url"])):
        archive.promote_copy(page, page.duplicate_of, topic, "identical text")
    else:
        archive.add_copy(page, page.duplicate_of, "identical text")
    return "copies_added"


def _earlier(page: tuple[str | None, str], than: tuple[str | None, str]) -> bool:
    """(day, URL) before (day, URL); an undated page is never earlier, nor later than one."""
    return bool(page[0] and than[0] and page < than)
