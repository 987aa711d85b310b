"""The loopback site: a threaded HTTP server on 127.0.0.1 (port 0) answering from a dict of routes,
logging every request, with hooks the fault tests need (hold a path, cut its first answer, act
when a given request arrives)."""

from __future__ import annotations

import re
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


@dataclass
class Answer:
    """What a route answers: status, body, headers (Content-Length is added). With ranges, a
    `Range: bytes=a-b` request is answered with the part asked for (206), as file servers do."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    ranges: bool = True


# (handler, times this path was asked) -> the answer, or None when the route answered (or hung up) itself
Route = Callable[["Handler", int], "Answer | None"]
NOT_FOUND = Answer(404, b"not found", (("Content-Type", "text/plain"),))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, Answer | Route], fallback: Answer | Route):
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes
        self.fallback = fallback  # what answers a path the routes do not name
        self.requests: list[str] = []  # paths, in the order asked
        self.ranges: list[str | None] = []  # the Range header of each request, None without one
        self.times: list[float] = []  # time.monotonic() of each request
        self.holds: dict[str, threading.Event] = {}  # a path answered only once its event is set
        self.break_once: set[str] = set()  # a path whose next answer stops half way
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets hanging handlers go at shutdown
        # Called with (request number, path) before answering; True drops the connection unanswered.
        self.on_request: Callable[[int, str], bool] | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-connection (the kill tests) resets it: nothing to report."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)

    def record(self, path: str, wanted: str | None) -> tuple[int, bool]:
        """How many times this path has been asked, this time included; and whether to drop it."""
        with self.lock:
            self.requests.append(path)
            self.ranges.append(wanted)
            self.times.append(time.monotonic())
            number = len(self.requests)
            times = self.requests.count(path)
        return times, bool(self.on_request and self.on_request(number, path))

    def breaks(self, path: str) -> bool:
        """Whether this answer to path is the one to cut (once)."""
        with self.lock:
            if path not in self.break_once:
                return False
            self.break_once.discard(path)
            return True


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    _RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        times, drop = self.server.record(path, self.headers.get("Range"))
        if drop:
            self.close_connection = True
            return
        if gate := self.server.holds.get(path):
            gate.wait(120)
        route = self.server.routes.get(path, self.server.fallback)
        answer = route if isinstance(route, Answer) else route(self, times)
        if answer is None:
            return
        if self.server.breaks(path):
            self.send(answer, cut=True)
        elif answer.ranges and answer.status == 200 and self.headers.get("Range"):
            self.send(self.part(answer, self.headers["Range"]))
        else:
            self.send(answer)

    def part(self, answer: Answer, wanted: str) -> Answer:
        """The part of a whole answer a single range asks for: 206 with Content-Range, or 416."""
        data = answer.body
        match = self._RANGE.match(wanted.strip())
        first = int(match[1]) if match else len(data)
        last = min(int(match[2]) if match and match[2] else len(data) - 1, len(data) - 1)
        if first > last:
            return Answer(416, b"", (("Content-Range", f"bytes */{len(data)}"),))
        return Answer(206, data[first : last + 1], (*answer.headers, ("Content-Range", f"bytes {first}-{last}/{len(data)}")))

    def send(self, answer: Answer, length: int | None = None, cut: bool = False) -> None:
        """The answer; with cut, half its body under a Content-Length of all of it, then the
        connection closes."""
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body) if length is None else length))
        self.end_headers()
        self.wfile.write(answer.body[: len(answer.body) // 2] if cut else answer.body)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class Site:
    """A running loopback site and the URLs it serves; a context manager. Paths not in routes are
    answered by fallback (404 by default; `Files(folder)` serves a folder)."""

    def __init__(self, routes: dict[str, Answer | Route] | None = None, *, fallback: Answer | Route = NOT_FOUND):
        self.server = Server({} if routes is None else routes, fallback)  # the test may add routes once it knows the URLs
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def routes(self) -> dict[str, Answer | Route]:
        return self.server.routes

    @property
    def fallback(self) -> Answer | Route:
        return self.server.fallback

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    @property
    def ranges(self) -> list[str | None]:
        """The Range header of each request, in the order of `requests` (None without one)."""
        return self.server.ranges

    @property
    def holds(self) -> dict[str, threading.Event]:
        """A path put here is answered only once its event is set (or the site stops)."""
        return self.server.holds

    @property
    def break_once(self) -> set[str]:
        """A path put here has its next answer cut half way (under a Content-Length of all of it)."""
        return self.server.break_once

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str = "") -> str:
        return f"http://{self.netloc}{path}"

    def asked(self, path: str) -> int:
        return self.server.requests.count(path)

    def asked_at(self, path: str) -> list[float]:
        return [t for p, t in zip(self.server.requests, self.server.times) if p == path]

    @contextmanager
    def when(self, asked: Callable[[int, str], bool], act: Callable[[], bool]) -> Iterator[None]:
        """Inside the block, the first request for which asked(number, path) holds (number counts
        the requests since the block began, from 1) runs act() before it is answered; act()
        returning True drops the connection unanswered, as a killed crawler's would be."""
        first, fired = len(self.server.requests), threading.Event()

        def on_request(number: int, path: str) -> bool:
            with self.server.lock:
                if fired.is_set() or not asked(number - first, path):
                    return False
                fired.set()
            return act()

        self.server.on_request = on_request
        try:
            yield
        finally:
            self.server.on_request = None

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.release.set()
        for gate in self.server.holds.values():
            gate.set()
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
