"""What every clippings spider shares: the topic's scope, provenance on each page, failures as items."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.listings import Listing
from crawlers.scope import Scope, netloc
from pipelines.core.items import FetchedPage, FetchFailure
from pipelines.core.topic import Topic, load_topic


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class ArchiveSpider(scrapy.Spider):
    """Finds and fetches; yields FetchedPage or FetchFailure items, nothing else."""

    topic: Topic
    crawl_run_id: str
    entry_kind = "seeds"  # where the outlets list this spider's first URLs: seeds, feeds or sitemaps

    def __init__(self, *args: Any, urls: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls_file = urls

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.topic = load_topic(crawler.settings["TOPIC_PATH"])
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        spider.crawl_run_id = f"{stamp}-{spider.name}-{secrets.token_hex(2)}"
        spider.scope = Scope(spider.scope_domains())
        return spider

    def scope_domains(self) -> list[str]:
        """Hosts the crawl may visit (crawlers/scope.py): the topic's outlets' domains, or the
        hosts of a --urls file (with their port, where a URL names one)."""
        if self.urls_file:
            return sorted({netloc(u.rstrip("*")) for u in self.listed_urls()} - {""})
        return self.topic.allowed_domains

    async def start(self):
        for url in self.entry_urls():
            yield self.request(url, self.parse_entry)

    def entry_urls(self) -> list[str]:
        """The --urls file's URLs, or what the topic's outlets list under entry_kind."""
        if self.urls_file:
            return self.listed_urls()
        return [url for outlet in self.topic.outlets for url in getattr(outlet, self.entry_kind)]

    def parse_entry(self, response: Response):
        raise NotImplementedError

    def unreadable_listing(self, response: Response, reason: Exception) -> FetchFailure:
        """A listing with no entries to read: logged, and a fetch failure saying why."""
        self.logger.warning("Ignoring %s: %s", response.url, reason)
        self.crawler.stats.inc_value("clippings/listings_unreadable")
        return self.listing_failure(response, f"unreadable listing: {reason}")

    def damaged_listing(self, response: Response, listing: Listing) -> FetchFailure:
        """A listing read only up to some point: its entries so far are followed; logged, and a
        fetch failure saying why the rest is missing."""
        self.logger.warning("Read %s in part (%d entries): %s", response.url, len(listing.entries), listing.damage)
        self.crawler.stats.inc_value("clippings/listings_damaged")
        return self.listing_failure(
            response, f"listing read in part ({len(listing.entries)} entries): {listing.damage}; entries after that are missing"
        )

    def nested_sitemap(self, url: str, depth: int, callback, **cb_kwargs: Any) -> scrapy.Request | FetchFailure:
        """A sitemap an index lists, `depth` indexes down: requested within SITEMAP_MAX_DEPTH, a
        fetch failure beyond it (an index may list indexes without end: generated, or a loop
        of ever-new URLs)."""
        limit = self.settings.getint("SITEMAP_MAX_DEPTH")
        if depth > limit:
            self.crawler.stats.inc_value("clippings/sitemaps_too_deep")
            return FetchFailure(
                url=url,
                error=f"not fetched: a sitemap below {depth} nested sitemap indexes (SITEMAP_MAX_DEPTH is {limit})",
                spider=self.name,
                crawl_run_id=self.crawl_run_id,
                failed_at=utc_now(),
            )
        return self.request(url, callback, depth=depth, **cb_kwargs)

    def listing_failure(self, response: Response, error: str) -> FetchFailure:
        return FetchFailure(
            url=response.request.meta.get("redirect_urls", [response.url])[0],
            error=error,
            spider=self.name,
            crawl_run_id=self.crawl_run_id,
            status=response.status,
            failed_at=utc_now(),
            listing=True,
        )

    def listed_urls(self) -> list[str]:
        """URLs from the --urls file: one per line, blank lines and # comments skipped."""
        lines = Path(self.urls_file).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]

    def request(self, url: str, callback, **cb_kwargs: Any) -> scrapy.Request | FetchFailure:
        """A request for the URL; outside the crawl's scope, a failure saying so instead (every URL
        a spider finds is accounted for; ScopeMiddleware does the same for redirects)."""
        if why := self.scope.refusal(url):
            return FetchFailure(
                url=url, error=f"not fetched: {why}", spider=self.name, crawl_run_id=self.crawl_run_id, failed_at=utc_now()
            )
        return scrapy.Request(url, callback=callback, errback=self.failed, cb_kwargs=cb_kwargs)

    def page(self, response: Response, listing_dates: dict[str, str] | None = None) -> FetchedPage:
        """The raw response with its provenance, for the pipelines."""
        headers = {k.decode("latin-1").lower(): [v.decode("latin-1") for v in vs] for k, vs in response.headers.items()}
        return FetchedPage(
            url=response.request.meta.get("redirect_urls", [response.url])[0],
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=utc_now(),
            spider=self.name,
            crawl_run_id=self.crawl_run_id,
            listing_dates=listing_dates or {},
        )

    def parse_page(self, response: Response, listing_dates: dict[str, str] | None = None):
        yield self.page(response, listing_dates)

    def failed(self, failure: Failure):
        """Errback: every failed fetch becomes a FetchFailure item with its reason, under the
        URL first requested (a redirect's target is named in the reason when it matters)."""
        request = failure.request
        status = None
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            error = f"HTTP {status}"
            if location := response.headers.get("Location"):
                error += f" to {location.decode('latin-1')}, not followed"
        else:
            error = f"{failure.type.__name__}: {_failure_message(failure.value)}"
        yield FetchFailure(
            url=request.meta.get("redirect_urls", [request.url])[0],
            error=error,
            spider=self.name,
            crawl_run_id=self.crawl_run_id,
            status=status,
            failed_at=utc_now(),
        )


def _failure_message(error: BaseException) -> str:
    """What went wrong, readably. Scrapy's download errors wrap Twisted's reasons in a list
    repr, or carry no message at all (ResponseDataLossError): the exception's docstring
    says what happened, followed by the reasons it wraps."""
    reasons = getattr(error.__cause__, "reasons", None) or []
    summary = str(error) if str(error) and not reasons else (type(error).__doc__ or "").strip().split("\n")[0]
    details = "; ".join(f"{r.type.__name__}: {r.getErrorMessage()}".rstrip(": ") for r in reasons)
    return f"{summary} ({details})" if details else summary
