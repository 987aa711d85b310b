"""Downloader middlewares: robots.txt obeyed for every request (including those that wait for
it, and as RFC 9309 reads an unavailable one); Retry-After honoured per host."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's, with one fix and RFC 9309's reading of an unavailable robots.txt.

    The fix: in Scrapy 2.19 the requests that arrive while a host's robots.txt is
    downloading all await one shared Deferred; its asFuture() adapter hands the parser to
    the first of them and None ("no robots.txt") to the others, so they were fetched
    unchecked. Here each waiter has a Deferred of its own and then reads the parser the
    middleware has stored by the time the shared Deferred fires.

    RFC 9309: a robots.txt that answers 5xx or cannot be fetched (after retries) means
    "disallow all" (Scrapy reads both as "allow all"); a 4xx still means "allow all". The
    refusal names the reason, so fetch_failures says why a whole site was skipped.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.unavailable: dict[str, str] = {}  # netloc -> why its robots.txt is unavailable

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            own: Deferred[None] = Deferred()
            pending.addBoth(_fire, own)
            await maybe_deferred_to_future(own)
            return self._parsers[netloc]
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self.unavailable[netloc] = f"{response.url} answered HTTP {response.status}"
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        """A blocked robots.txt (the fetch guard) leaves the decision to the guard; any
        other failure to fetch it means disallow all."""
        if isinstance(exc, IgnoreRequest):
            super()._robots_error(exc, netloc)
            return
        self.unavailable[netloc] = f"its robots.txt could not be fetched ({type(exc).__name__})"
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        waiting, self._parsers[netloc] = self._parsers[netloc], parser
        waiting.callback(parser)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            why = self.unavailable.get(urlparse_cached(request).netloc)
            if why is None:
                raise
            raise IgnoreRequest(f"Forbidden by robots.txt: {why}, which RFC 9309 reads as disallow all") from None


def _fire(result: Any, waiter: Deferred) -> Any:
    """Wake one waiter and pass the result along the chain unchanged."""
    waiter.callback(None)
    return result


class RetryAfterMiddleware:
    """429 and 503 answers with a Retry-After header pause their host: no request is sent
    there before the time it names (at most RETRY_AFTER_MAX seconds). A 429 without one
    pauses it RETRY_AFTER_DEFAULT seconds: a rate-limited service (the Wayback Machine's CDX
    server) answered too soon again blocks longer. RetryMiddleware does the retrying, bounded
    by RETRY_TIMES; this only makes the retries wait."""

    def __init__(self, max_wait: float, default_wait: float = 0.0):
        self.max_wait = max_wait
        self.default_wait = default_wait
        self.not_before: dict[str, float] = {}  # netloc -> monotonic time

    @classmethod
    def from_crawler(cls, crawler) -> RetryAfterMiddleware:
        settings = crawler.settings
        return cls(settings.getfloat("RETRY_AFTER_MAX"), settings.getfloat("RETRY_AFTER_DEFAULT"))

    async def process_request(self, request: Request) -> None:
        wait = self.not_before.get(urlparse_cached(request).netloc, 0.0) - time.monotonic()
        if wait > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, wait))

    def process_response(self, request: Request, response: Response) -> Response:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None and response.status == 429:
            seconds = self.default_wait or None
        if response.status in (429, 503) and seconds is not None:
            netloc = urlparse_cached(request).netloc
            until = time.monotonic() + min(seconds, self.max_wait)
            self.not_before[netloc] = max(self.not_before.get(netloc, 0.0), until)
        return response


def retry_after_seconds(value: bytes | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - dt.datetime.now(dt.timezone.utc)).total_seconds())
