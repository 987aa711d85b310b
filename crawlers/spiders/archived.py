"""What the web-archive spiders (wayback, commoncrawl) share: CDX listings of the outlets' captures in the
window, paged, filtered on the URL, each original URL fetched once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawlers.articleurls import ArticleUrls
from crawlers.jobstate import JobState
from crawlers.scope import netloc
from crawlers.spiders.base import ArchiveSpider, utc_now
from pipelines.core.items import FetchFailure
from pipelines.sources.cdx import Capture, CdxError, Query, read_answer


class CapturesSpider(ArchiveSpider):
    """Lists captures through CDX queries; subclasses fetch them (listed_captures)."""

    source = ""  # FetchedPage.source: wayback, commoncrawl
    service_settings: tuple[str, ...] = ()  # settings holding the archive's URLs, whose hosts are crawled
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}  # archives rate-limit; cmdline -s still wins

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.article_urls = ArticleUrls(spider.topic, crawler.settings.getbool("ARCHIVE_URL_KEYWORDS_REQUIRED"))
        # Original URLs already requested, as url_key(); a resumed crawl starts with those whose
        # outcome the killed run archived (the job state holds original URLs, not replay URLs).
        spider.wanted_keys = {url_key(url) for url in finished_urls(crawler.settings.get("JOB_STATE_PATH"))}
        spider.url_patterns = spider.listed_urls() if spider.urls_file else []
        return spider

    def scope_domains(self) -> list[str]:
        """The archive's hosts: the outlets' own are never contacted, only named in queries."""
        hosts = {netloc(self.settings[name].format(crawl="", timestamp="", url="")) for name in self.service_settings}
        return sorted(hosts - {""})

    # --- what to list ---------------------------------------------------------

    def capture_queries(self, endpoint: str) -> list[Query]:
        """One query per URL pattern of the --urls file, or per outlet prefix (else domain)."""
        start, end = self.capture_range()
        if self.urls_file:
            patterns = self.url_patterns
        else:
            patterns = [p + "*" for o in self.topic.outlets for p in o.archive_prefixes]
            patterns += [d.split(":")[0] for o in self.topic.outlets if not o.archive_prefixes for d in o.domains]
        return [_pattern_query(endpoint, pattern, start, end) for pattern in dict.fromkeys(patterns)]

    def capture_range(self) -> tuple[str, str]:
        """The window as CDX from/to, extended by ARCHIVE_CAPTURE_MARGIN_DAYS after its end: an
        article of the window's last days may have been captured only later."""
        margin = dt.timedelta(days=self.settings.getint("ARCHIVE_CAPTURE_MARGIN_DAYS"))
        return self.topic.start.strftime("%Y%m%d"), (self.topic.end + margin).strftime("%Y%m%d")

    def cdx_request(
        self, query: Query, kind: str, url: str | None = None, page: int | None = None, **cb_kwargs: Any
    ) -> scrapy.Request | FetchFailure:
        """A CDX request; `kind` says what its captures are: articles, feed or sitemap."""
        request = self.request(url or query.page_count_url(), self.parse_cdx, query=query, kind=kind, page=page, **cb_kwargs)
        if isinstance(request, scrapy.Request):
            # Common Crawl's index answers 404 "No Captures found" for a URL it does not hold.
            request.meta["handle_httpstatus_list"] = [404]
        return request

    def parse_cdx(self, response: Response, query: Query, kind: str, page: int | None, **cb_kwargs: Any):
        if response.status == 404:
            if b"No Captures found" in response.body[:1000]:
                self.crawler.stats.inc_value("clippings/cdx_queries_without_captures")
            else:
                yield self.failure(response.url, "HTTP 404 from the CDX server (is its URL setting right?)", 404)
            return
        try:
            answer = read_answer(response.body)
        except CdxError as error:
            yield self.failure(response.url, f"unreadable CDX answer: {error}", response.status)
            return
        if page is None and url_is_page_count(response.url):
            # A count of pages, or (from a server without paging: pywb over plain CDXJ) the index's
            # lines unfiltered and unclamped: then the query once more, without paging.
            numbers = range(answer.pages) if answer.pages is not None else [None]
            for number in numbers:
                yield self.cdx_request(query, kind, query.page_url(answer.dialect, number), number, **cb_kwargs)
            return
        self.crawler.stats.inc_value("clippings/cdx_captures_listed", len(answer.captures))
        yield from self.listed_captures(answer.captures, kind, **cb_kwargs)
        if answer.resume_key:
            url = query.page_url(answer.dialect, page, answer.resume_key)
            yield self.cdx_request(query, kind, url, page, **cb_kwargs)

    def listed_captures(self, captures: list[Capture], kind: str, **cb_kwargs: Any):
        raise NotImplementedError

    # --- which captures to fetch --------------------------------------------

    def wanted(self, capture: Capture, check_url: bool = True) -> bool:
        """A capture of an outlet's page (or of the --urls file's), in HTML, with an article's
        URL, not yet requested. Listing entries skip the URL test: the listing says they are articles."""
        if capture.status not in (None, 200) or (capture.mime and "html" not in capture.mime):
            return self.skip("captures_not_html_200")
        if not self.in_scope(capture.url):
            return self.skip("captures_outside_scope")
        if check_url and (reason := self.article_urls.refusal(capture.url)):
            self.logger.debug("Skipping %s: %s", capture.url, reason)
            return self.skip("captures_not_article_urls")
        key = url_key(capture.url)
        if key in self.wanted_keys:
            return self.skip("captures_already_requested")
        self.wanted_keys.add(key)
        return True

    def skip(self, stat: str) -> bool:
        self.crawler.stats.inc_value(f"clippings/{stat}")
        return False

    def in_scope(self, url: str) -> bool:
        if not self.urls_file:
            return self.topic.outlet_for(url) is not None
        return any(_matches_pattern(url, pattern) for pattern in self.url_patterns)

    def failure(self, url: str, error: str, status: int | None = None) -> FetchFailure:
        return FetchFailure(
            url=url, error=error, spider=self.name, crawl_run_id=self.crawl_run_id, status=status, failed_at=utc_now()
        )


def finished_urls(job_state_path: str | None) -> set[str]:
    """The URLs an interrupted run of this crawl already archived (crawlers/jobstate.py)."""
    if not job_state_path or not Path(job_state_path).exists():
        return set()
    state = JobState(job_state_path)
    try:
        return state.finished_urls()
    finally:
        state.close()


def url_is_page_count(url: str) -> bool:
    return "showNumPages=true" in url


def _pattern_query(endpoint: str, pattern: str, start: str, end: str) -> Query:
    """A --urls line (or an outlet's prefix or domain) as a query: `host` lists the host and its
    subdomains, `http://host/path*` the URLs under the prefix."""
    if pattern.endswith("*"):
        return Query(endpoint, pattern.rstrip("*"), "prefix", start, end)
    host = urlsplit(pattern).hostname if "//" in pattern else pattern.split("/")[0]
    return Query(endpoint, host or pattern, "domain", start, end)


def _matches_pattern(url: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return _without_scheme(url).startswith(_without_scheme(pattern.rstrip("*")))
    host = (urlsplit(pattern).hostname if "//" in pattern else pattern.split("/")[0]).lower()
    actual = (urlsplit(url).hostname or "").lower()
    return actual == host or actual.endswith("." + host)


def _without_scheme(url: str) -> str:
    return re.sub(r"^[a-z]+://(www\.)?", "", url.lower())


def url_key(url: str) -> str:
    """One key for the variants an archive records of one URL: scheme, www., default port,
    trailing slash and fragment aside."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{port}{parts.path.rstrip('/') or '/'}{query}"
