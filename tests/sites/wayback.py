"""A stand-in for the Wayback Machine (web.archive.org), which cannot run here, as a site's
fallback route: its CDX dialect at /cdx/search/cdx and id_ replay at /web/TIMESTAMPid_/URL."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from .server import NOT_FOUND, Answer, Handler

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode")


class Capture(Protocol):
    url: str
    captured: str  # YYYYMMDDhhmmss
    content_type: str
    body: bytes


def surt_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return ",".join(reversed(host.split("."))) + ")" + (parts.path or "/").lower().rstrip("/")


def json_answer(value: object) -> Answer:
    return Answer(200, json.dumps(value).encode(), (("Content-Type", "application/json"),))


class Wayback:
    """The Wayback Machine's CDX dialect (a JSON array of rows, header row first; a bare page count
    for showNumPages; pages of `page_size` rows; at most `max_rows` rows an answer, then an empty
    row and a resume key), a 429 for the first CDX request when `retry_after` is set (with
    `Retry-After: N`, or none for 0), and id_ replay of the closest capture with Memento-Datetime.
    It implements only what the spiders send: url with matchType exact, prefix or domain; from/to;
    the statuscode and mimetype filters; collapse on a field or its first N characters. pageSize
    is ignored: a page is `page_size` rows. Records each CDX request's time and parameters."""

    def __init__(self, pages: list[Capture], retry_after: int | None = None, page_size: int = 4, max_rows: int = 2):
        self.pages, self.retry_after, self.page_size, self.max_rows = pages, retry_after, page_size, max_rows
        self.cdx_requests: list[tuple[float, dict]] = []

    def __call__(self, handler: Handler, times: int) -> Answer:
        parts = urlsplit(handler.path)
        if parts.path == "/cdx/search/cdx":
            self.cdx_requests.append((time.monotonic(), parse_qs(parts.query)))
            if self.retry_after is not None and len(self.cdx_requests) == 1:
                headers = (("Retry-After", str(self.retry_after)),) if self.retry_after else ()
                return Answer(429, b"Too Many Requests", headers)
            return self.cdx(parse_qs(parts.query))
        if match := re.match(r"^/web/(\d{1,14})id_/(.+)$", handler.path):
            return self.replay(match[1], match[2])
        return NOT_FOUND

    def cdx(self, params: dict[str, list[str]]) -> Answer:
        rows = self.rows(params)
        if params.get("showNumPages") == ["true"]:
            return Answer(200, f"{math.ceil(len(rows) / self.page_size)}\n".encode(), (("Content-Type", "text/plain"),))
        page = int(params.get("page", ["0"])[0])
        rows = rows[page * self.page_size : (page + 1) * self.page_size]
        start = int(params.get("resumeKey", ["0"])[0])
        shown = rows[start : start + self.max_rows]
        answer: list[list] = [list(FIELDS), *shown]
        if params.get("showResumeKey") == ["true"] and start + self.max_rows < len(rows):
            answer += [[], [str(start + self.max_rows)]]
        return json_answer(answer)

    def replay(self, timestamp: str, url: str) -> Answer:
        captures = sorted(
            (p for p in self.pages if p.url == url), key=lambda p: abs(int(p.captured) - int(timestamp.ljust(14, "0")))
        )
        if not captures:
            return Answer(404, b"not archived", ())
        page = captures[0]
        moment = dt.datetime.strptime(page.captured, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
        return Answer(
            200, page.body, (("Content-Type", page.content_type), ("Memento-Datetime", format_datetime(moment, usegmt=True)))
        )

    def rows(self, params: dict[str, list[str]]) -> list[list[str]]:
        url = params["url"][0]
        match_type = params.get("matchType", ["exact"])[0]
        start = params.get("from", ["0"])[0].ljust(14, "0")
        end = params.get("to", ["9"])[0].ljust(14, "9")
        rows = []
        for page in sorted(self.pages, key=lambda p: (surt_key(p.url), p.captured)):
            row = [surt_key(page.url), page.captured, page.url, page.content_type.split(";")[0], "200"]
            if self._matches(page.url, url, match_type) and start <= page.captured <= end and self._kept(row, params):
                rows.append(row)
        for spec in params.get("collapse", []):
            rows = self._collapsed(rows, spec)
        return rows

    @staticmethod
    def _collapsed(rows: list[list[str]], spec: str) -> list[list[str]]:
        """collapse=field or field:N: of adjacent rows equal in the field (its first N
        characters), only the first is kept."""
        name, _, length = spec.partition(":")
        column, width = FIELDS.index(name), int(length) if length else None
        kept: list[list[str]] = []
        for row in rows:
            if not kept or kept[-1][column][:width] != row[column][:width]:
                kept.append(row)
        return kept

    @staticmethod
    def _matches(original: str, url: str, match_type: str) -> bool:
        host = (urlsplit(original).hostname or "").removeprefix("www.")
        if match_type == "domain":
            return host == url or host.endswith("." + url)
        bare = re.sub(r"^https?://(www\.)?", "", original)
        wanted = re.sub(r"^https?://(www\.)?", "", url)
        return bare.startswith(wanted) if match_type == "prefix" else bare == wanted

    @staticmethod
    def _kept(row: list[str], params: dict[str, list[str]]) -> bool:
        for spec in params.get("filter", []):
            name, _, pattern = spec.partition(":")
            if not re.fullmatch(pattern, row[FIELDS.index(name)]):
                return False
        return True
