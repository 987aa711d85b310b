"""The crawl's scope: the hosts a spider may fetch (a topic's domains, host:port exact), checked on
every request, redirects included; a request outside it fails with the reason, it never vanishes."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from pipelines.core.topic import host_matches


class OutsideScope(IgnoreRequest):
    """The request's host (or port) is not one the crawl may fetch: the message says which."""


class Scope:
    """Domains as a topic writes them: `example.com` is the host and its subdomains on any port,
    `127.0.0.1:8101` that host on that port only."""

    def __init__(self, domains: list[str]):
        self.domains = list(domains)

    def refusal(self, url: str) -> str | None:
        """Why the URL is outside the scope, or None when the crawl may fetch it."""
        if any(host_matches(url, domain) for domain in self.domains):
            return None
        return f"outside the crawl's domains ({netloc(url) or 'no host'})"


def netloc(url: str) -> str:
    """host[:port] as the URL writes it, without user info."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


class ScopeMiddleware:
    """Downloader middleware in the place of Scrapy's OffsiteMiddleware, which drops an offsite
    redirect when it is scheduled, before any errback can record it, and ignores ports. Here a
    request outside the spider's scope fails with OutsideScope, and the spider's errback records
    it under the URL first requested, naming the redirect's target."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        scope: Scope | None = getattr(self.crawler.spider, "scope", None)
        if scope is None:  # a spider without one (rehydrate) fetches the URLs it is given
            return
        if why := scope.refusal(request.url):
            self.crawler.stats.inc_value("clippings/requests_outside_scope")
            if request.meta.get("redirect_urls"):
                raise OutsideScope(f"redirected to {request.url}, not followed: {why}")
            raise OutsideScope(f"not fetched: {why}")
