"""A fault-injection press site on 127.0.0.1 (port 0): each path serves one fault, and every request is logged."""

from __future__ import annotations

import gzip
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import yaml

from clippings.cli import DEFAULT_TOPIC

DAY = "2017/10/16"


def article_html(
    slug: str,
    title: str = "Weinstein accusers speak out",
    *,
    charset: str | None = "utf-8",
    extra: str = "",
    published: str = "2017-10-16",
) -> str:
    """An on-topic article, distinct from every other by its slug, dated in the window."""
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"""<!doctype html><html lang="en"><head>{meta}<title>{title}</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}T09:00:00Z"></head><body>
<article><h1>{title}</h1>
<p>Story {slug}. More women said on Monday that the producer Harvey Weinstein had harassed or assaulted
them, and described years of sexual harassment in hotel rooms presented as business meetings.</p>
<p>{extra}The accounts, gathered by reporters over several months, describe a pattern that colleagues
say was an open secret in the film industry, and a system of settlements and confidentiality clauses that
kept it quiet for decades while careers were made and broken.</p>
<p>Lawyers for Mr. Weinstein said he denied any allegation of non-consensual sex, and the company's board
said it would review the claims with outside counsel before deciding what to do next about the matter.</p>
</article></body></html>"""


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)


Route = Callable[["FaultHandler", int], "Answer | None"]  # (handler, times this path was asked) -> answer


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, Route]):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.routes = routes
        self.requests: list[str] = []  # paths, in the order asked
        self.times: list[float] = []  # time.monotonic() of each request
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets hanging handlers go at shutdown
        # Called with (request number, path) before answering; True drops the connection unanswered.
        self.on_request: Callable[[int, str], bool] | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-connection (the kill tests) resets it: nothing to report."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)

    def record(self, path: str) -> tuple[int, bool]:
        """How many times this path has been asked, this time included; and whether to drop it."""
        with self.lock:
            self.requests.append(path)
            self.times.append(time.monotonic())
            number = len(self.requests)
            times = self.requests.count(path)
        return times, bool(self.on_request and self.on_request(number, path))


class FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        times, drop = self.server.record(path)
        if drop:
            self.close_connection = True
            return
        route = self.server.routes.get(path)
        answer = route(self, times) if route else Answer(404, b"not found", (("Content-Type", "text/plain"),))
        if answer is not None:
            self.send(answer)

    def send(self, answer: Answer, length: int | None = None) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body) if length is None else length))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class FaultSite:
    """The server plus the URLs it serves; a context manager."""

    def __init__(self, routes: dict[str, Route]):
        self.server = FaultServer(routes)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.netloc}{path}"

    def asked(self, path: str) -> int:
        return self.server.requests.count(path)

    def asked_at(self, path: str) -> list[float]:
        return [t for p, t in zip(self.server.requests, self.server.times) if p == path]

    def __enter__(self) -> FaultSite:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def topic(self, sitemap_path: str = "/sitemap.xml", domains: tuple[str, ...] = ()) -> str:
        """The default topic with this site as its one outlet, found through its sitemap."""
        raw = yaml.safe_load(DEFAULT_TOPIC.read_text(encoding="utf-8"))
        raw["outlets"] = [
            {
                "id": "faults",
                "name": "The Fault Gazette",
                "country": "US",
                "language": "en",
                "domains": [self.netloc, *domains],
                "homepage": self.url("/"),
                "feeds": [],
                "sitemaps": [self.url(sitemap_path)],
                "seeds": [],
            }
        ]
        return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


# --- answers ------------------------------------------------------------------------------


def html(text: str, content_type: str = "text/html; charset=utf-8", encoding: str = "utf-8") -> Answer:
    return Answer(200, text.encode(encoding), (("Content-Type", content_type),))


def page(answer: Answer) -> Route:
    return lambda handler, times: answer


def sitemap(urls: list[str]) -> Answer:
    entries = "".join(f"<url><loc>{u.replace('&', '&amp;')}</loc><lastmod>2017-10-16</lastmod></url>" for u in urls)
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    return Answer(200, body.encode(), (("Content-Type", "application/xml"),))


def redirect(location: str, status: int = 302) -> Route:
    return page(Answer(status, b"", (("Location", location),)))


def fail_first(times_failing: int, failure: Answer, then: Answer) -> Route:
    return lambda handler, times: failure if times <= times_failing else then


def hang(handler: FaultHandler, times: int) -> None:
    """Never answer (until the server shuts down): the crawler's timeout must end it."""
    handler.server.release.wait(120)
    handler.close_connection = True


def reset(handler: FaultHandler, times: int) -> None:
    """Close with a TCP RST (SO_LINGER 0) before any answer."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


def truncated(body: bytes) -> Route:
    """Promise the whole body, send half of it, close."""

    def route(handler: FaultHandler, times: int) -> None:
        handler.send(Answer(200, body[: len(body) // 2]), length=len(body))
        handler.close_connection = True

    return route


def gzip_bomb(size: int) -> Answer:
    """A small gzip body that inflates to size bytes."""
    return Answer(
        200, gzip.compress(b"<p>" + b" " * size, 9), (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"))
    )


def binary(size: int, content_type: str | None, magic: bytes = b"") -> Answer:
    body = magic + random.Random(size).randbytes(size)
    return Answer(200, body, (("Content-Type", content_type),) if content_type else ())


@contextmanager
def site_with_sitemap(routes: dict) -> Iterator["FaultSite"]:
    """A FaultSite serving `routes`, with a sitemap listing them all."""
    with FaultSite(dict(routes)) as running:
        running.server.routes["/sitemap.xml"] = page(sitemap([running.url(path) for path in routes]))
        yield running
