"""What a source hands to the pipelines: a fetched page with its provenance, or a failed fetch
(the crawl's spiders, the import's archive files and reextract's captures alike)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the extraction's types: importing them here would load trafilatura with every page type
    from pipelines.core.extraction import Article
    from pipelines.core.relevance import TopicMatch


@dataclass
class FetchedPage:
    url: str  # the URL requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, list[str]] = field(repr=False)
    body: bytes = field(repr=False)
    fetched_at: str  # ISO 8601 UTC, when the response arrived
    spider: str
    crawl_run_id: str
    source: str = "live"  # live, wayback, commoncrawl, warc
    archived_at: str | None = None  # capture time when it came from a web archive
    # Where an archive's record of the page lies: a WARC file (path or URL) with the record's
    # byte offset and length, or a Wayback replay URL. None for live fetches.
    record_file: str | None = None
    record_offset: int | None = None
    record_length: int | None = None
    listing_dates: dict[str, str] = field(default_factory=dict, repr=False)  # e.g. {"feed": "2017-10-16"}
    # Filled in by the pipelines, in order.
    capture_id: int | None = field(default=None, repr=False)
    capture_is_new: bool = field(default=True, repr=False)
    content_sha256: str | None = field(default=None, repr=False)  # of the body, as captured
    outlet_id: str | None = field(default=None, repr=False)
    article: Article | None = field(default=None, repr=False)
    boilerplate: frozenset[str] = field(default=frozenset(), repr=False)  # the outlet's lines its extraction dropped
    topic_match: TopicMatch | None = field(default=None, repr=False)
    canonical_url: str | None = field(default=None, repr=False)
    duplicate_of: int | None = field(default=None, repr=False)  # article id whose text this page repeats
    unchanged: bool = field(default=False, repr=False)  # already archived from this very capture
    version_of: int | None = field(default=None, repr=False)  # article id at this URL whose text differs

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class FetchFailure:
    url: str
    error: str
    spider: str
    crawl_run_id: str
    status: int | None = None
    failed_at: str = ""
    # About a listing (feed, sitemap) that was fetched but could be read only in part, or not at
    # all: its URL is not finished (crawlers/jobstate.py), a resumed crawl reads it again.
    listing: bool = False
