"""Answers and routes, plain and hostile: a route is an Answer, or a function of (handler, times
asked) for what an Answer cannot say (a fault that depends on the request, a connection cut)."""

from __future__ import annotations

import gzip
import random
import socket
import struct
import time

from .server import Answer, Handler, Route


def html(text: str, content_type: str = "text/html; charset=utf-8", encoding: str = "utf-8") -> Answer:
    return Answer(200, text.encode(encoding), (("Content-Type", content_type),))


def page(answer: Answer) -> Route:
    """The same answer every time, as a route."""
    return lambda handler, times: answer


def sitemap(urls: list[str]) -> Answer:
    entries = "".join(f"<url><loc>{u.replace('&', '&amp;')}</loc><lastmod>2017-10-16</lastmod></url>" for u in urls)
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    return Answer(200, body.encode(), (("Content-Type", "application/xml"),))


def redirect(location: str, status: int = 302) -> Route:
    return page(Answer(status, b"", (("Location", location),)))


def fail_first(times_failing: int, failure: Answer, then: Answer) -> Route:
    return lambda handler, times: failure if times <= times_failing else then


def gzip_bomb(size: int) -> Answer:
    """A small gzip body that inflates to size bytes."""
    return Answer(
        200, gzip.compress(b"<p>" + b" " * size, 9), (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"))
    )


def binary(size: int, content_type: str | None, magic: bytes = b"") -> Answer:
    body = magic + random.Random(size).randbytes(size)
    return Answer(200, body, (("Content-Type", content_type),) if content_type else ())


# --- hostile routes -------------------------------------------------------------------------


def hang(handler: Handler, times: int) -> None:
    """Never answer (until the site shuts down): the client's timeout must end it."""
    handler.server.release.wait(120)
    handler.close_connection = True


def reset(handler: Handler, times: int) -> None:
    """Close with a TCP RST (SO_LINGER 0) before any answer."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


def truncated(body: bytes) -> Route:
    """Promise the whole body, send half of it, close (every time; `site.break_once` does it
    once, to any answer)."""

    def route(handler: Handler, times: int) -> None:
        handler.send(Answer(200, body[: len(body) // 2]), length=len(body))
        handler.close_connection = True

    return route


def _drip(handler: Handler, data: bytes, seconds: float = 0.1, limit: float = 60) -> None:
    """Write data a byte every `seconds`, for at most `limit` seconds, while the client reads."""
    ends = time.monotonic() + limit
    try:
        for byte in data:
            if time.monotonic() > ends or handler.server.release.is_set():
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(seconds)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up, as it should
    handler.close_connection = True


def drip_body(body: bytes) -> Route:
    """Headers at once, then the body a byte every 0.1 s: no read ever times out."""

    def route(handler: Handler, times: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        _drip(handler, body)

    return route


def drip_headers(handler: Handler, times: int) -> None:
    """The status line and a 10 kB header, a byte every 0.1 s."""
    _drip(handler, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10000 + b"\r\n\r\n")


def unannounced(body: bytes) -> Route:
    """The body with no Content-Length, ended by closing the connection."""

    def route(handler: Handler, times: int) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its size cap

    return route
