"""Downloader middlewares: robots.txt obeyed for every request, including those that wait for it."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares import robotstxt
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


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
