"""Fetch safety: only HTTP(S), only public addresses (checked after DNS, on every redirect), bounded per host."""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from pipelines.core.addresses import Address, AddressPolicy, literal_address

SCHEMES = ("http", "https")


class BlockedRequest(IgnoreRequest):
    """The fetch guard refused a request: the message says which URL and why."""


class RefusedAddress(DNSLookupError):
    """A host name resolved to an address the policy refuses (raised by GuardedResolver)."""


class FetchGuardMiddleware:
    """Downloader middleware: every request, redirects and robots.txt included, is checked
    before it is sent (after the scope check, crawlers/scope.py, so hosts outside the topic are not even
    resolved). Host names are resolved here through GuardedResolver, whose cache the
    connection then uses; if it resolves again, the resolver refuses the same addresses."""

    def __init__(self, crawler: Crawler, policy: AddressPolicy, max_pages_per_domain: int):
        self.crawler = crawler
        self.policy = policy
        self.max_pages_per_domain = max_pages_per_domain
        self.pages_per_domain: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchGuardMiddleware:
        settings = crawler.settings
        return cls(crawler, AddressPolicy(settings.getlist("ALLOWED_PRIVATE_NETWORKS")), settings.getint("MAX_PAGES_PER_DOMAIN"))

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        if parts.scheme not in SCHEMES:
            self.block(request, f"the scheme {parts.scheme!r} is not fetched (only http and https)")
        host = parts.hostname or ""
        address = literal_address(host) or await self.resolve(request, host)
        if reason := self.policy.refusal(address):
            self.block(request, reason)
        self.count_page(request, parts.netloc)

    async def resolve(self, request: Request, host: str) -> Address:
        """The address the connection will use: resolved by GuardedResolver and cached."""
        from twisted.internet import reactor

        try:
            return ipaddress.ip_address(await maybe_deferred_to_future(reactor.resolve(host)))
        except RefusedAddress as refused:
            self.block(request, f"{host}: {refused.args[0]}")

    def count_page(self, request: Request, netloc: str) -> None:
        """Retries and robots.txt are not pages; everything else counts against its host."""
        if request.meta.get("retry_times") or urlparse_cached(request).path == "/robots.txt":
            return
        if self.max_pages_per_domain and self.pages_per_domain[netloc] >= self.max_pages_per_domain:
            self.block(request, f"MAX_PAGES_PER_DOMAIN ({self.max_pages_per_domain}) reached for {netloc}")
        self.pages_per_domain[netloc] += 1

    def block(self, request: Request, reason: str) -> None:
        self.crawler.stats.inc_value("clippings/requests_blocked")
        raise BlockedRequest(f"blocked {request.url}: {reason}")


class GuardedResolver(CachingThreadedResolver):
    """The crawl's DNS resolver (TWISTED_DNS_RESOLVER): the second line of defence. A name
    that resolves to a refused address fails to resolve, so no connection can reach it
    even if a request got past FetchGuardMiddleware."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float, policy: AddressPolicy):
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> GuardedResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), AddressPolicy(settings.getlist("ALLOWED_PRIVATE_NETWORKS"))
        )

    def getHostByName(self, name: str, timeout: Any = ()):
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _check(self, result: str, name: str) -> str:
        if reason := self.policy.refusal(ipaddress.ip_address(result)):
            raise RefusedAddress(reason)
        return result
