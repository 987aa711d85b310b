"""Downloader middlewares: robots.txt obeyed for every request, including those that wait for
it; Retry-After honoured per host."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.downloadermiddlewares import robotstxt
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's, with one fix. In Scrapy 2.19 the requests that arrive while a host's
    robots.txt is downloading all await one shared Deferred; its asFuture() adapter hands
    the parser to the first of them and None ("no robots.txt") to the others, so they
    were fetched unchecked. Here each waiter has a Deferred of its own and then reads the
    parser the middleware has stored by the time the shared Deferred fires."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            own: Deferred[None] = Deferred()
            pending.addBoth(_fire, own)
            await maybe_deferred_to_future(own)
            return self._parsers[netloc]
        return await super().robot_parser(request)


def _fire(result: Any, waiter: Deferred) -> Any:
    """Wake one waiter and pass the result along the chain unchanged."""
    waiter.callback(None)
    return result


class RetryAfterMiddleware:
    """429 and 503 answers with a Retry-After header pause their host: no request is sent
    there before the time it names (at most RETRY_AFTER_MAX seconds). RetryMiddleware does
    the retrying, bounded by RETRY_TIMES; this only makes the retries wait."""

    def __init__(self, max_wait: float):
        self.max_wait = max_wait
        self.not_before: dict[str, float] = {}  # netloc -> monotonic time

    @classmethod
    def from_crawler(cls, crawler) -> RetryAfterMiddleware:
        return cls(crawler.settings.getfloat("RETRY_AFTER_MAX"))

    async def process_request(self, request: Request) -> None:
        wait = self.not_before.get(urlparse_cached(request).netloc, 0.0) - time.monotonic()
        if wait > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, wait))

    def process_response(self, request: Request, response: Response) -> Response:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
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
