"""Web-archive fixtures, reusable by any test: the archived pages of two fictional outlets written into
WARC files with warcio, pywb serving them (a Wayback server and a Common Crawl style index), a file
server with HTTP Range support for the WARC records, and a stand-in for the Wayback Machine's CDX
dialect, which pywb does not speak.

pywb runs from its own virtualenv (installed beside Scrapy it breaks Scrapy's brotli decoding):
CLIPPINGS_PYWB names its bin folder, by default .venv-pywb/bin in the checkout (`.ci/run` makes it).
Without it the tests that need it skip, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NORTHFIELD = "http://www.northfield-gazette.example"
HARBOURVIEW = "https://harbourview-post.example"

TOPIC = f"""\
name: backfill
title: Backfill test topic
window: {{start: 2017-10-01, end: 2017-10-31}}
keywords: ["#MeToo", "sexual harassment"]
people:
  - {{name: Harvey Weinstein, role: accused, aliases: [Weinstein]}}
  - {{name: Rose McGowan, role: accuser, aliases: [McGowan]}}
outlets:
  - id: northfield
    name: Northfield Gazette
    domains: [northfield-gazette.example]
    feeds: ["{NORTHFIELD}/feed.xml"]
  - id: harbourview
    name: Harbourview Post
    domains: [harbourview-post.example]
    sitemaps: ["{HARBOURVIEW}/sitemap-news.xml"]
"""

FILLER = (
    "Reporters spoke with more than a dozen people over several weeks, reviewed court filings and "
    "internal emails, and asked every person named in this article for comment before publication. "
    "Several declined to speak on the record, citing agreements they had signed years earlier."
)


@dataclass(frozen=True)
class ArchivedPage:
    """One capture: the original URL, when the archive took it, what it answered."""

    url: str
    captured: str  # YYYYMMDDhhmmss, UTC
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    title: str | None = None
    outcome: str = "skipped"  # article, off-topic, outside window, skipped (never fetched)

    @property
    def warc_date(self) -> str:
        return dt.datetime.strptime(self.captured, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")


def article_html(title: str, published: str, paragraphs: list[str]) -> bytes:
    body = "\n".join(f"<p>{p} {FILLER}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{body}</article>
<footer>Copyright the publisher</footer></body></html>""".encode()


def rss(items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(f"<item><title>{t}</title><link>{u}</link><pubDate>{d}</pubDate></item>" for u, t, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title>{entries}</channel></rss>'.encode()


def news_sitemap(items: list[tuple[str, str]]) -> bytes:
    urls = "".join(
        f"<url><loc>{u}</loc><news:news><news:publication_date>{d}</news:publication_date></news:news></url>" for u, d in items
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


def northfield_pages() -> list[ArchivedPage]:
    accusers = f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"
    survivor = f"{NORTHFIELD}/news/a-survivors-account/"
    return [
        ArchivedPage(
            accusers,
            "20171016120000",
            article_html(
                "Harvey Weinstein accusers speak out",
                "2017-10-16T08:00:00-04:00",
                [
                    "Women who worked with Harvey Weinstein described years of sexual harassment.",
                    "Rose McGowan said the #MeToo messages showed how common such abuse had been.",
                ],
            ),
            title="Harvey Weinstein accusers speak out",
            outcome="article",
        ),
        # Its slug names no keyword: the URL filter must not drop it.
        ArchivedPage(
            survivor,
            "20171021090000",
            article_html(
                "A survivor's account",
                "2017-10-20T10:30:00-04:00",
                [
                    "A former assistant described the sexual harassment she faced in a producer's office.",
                    "She wrote her story under #MeToo after reading about Harvey Weinstein.",
                ],
            ),
            title="A survivor's account",
            outcome="article",
        ),
        ArchivedPage(
            f"{NORTHFIELD}/2017/10/18/council-budget-vote-delayed/",
            "20171018150000",
            article_html(
                "Council budget vote delayed",
                "2017-10-18T09:00:00-04:00",
                [
                    "The city council postponed its budget vote after a dispute over road repairs.",
                    "Members will meet again next week to discuss the library and the bus routes.",
                ],
            ),
            title="Council budget vote delayed",
            outcome="off-topic",
        ),
        # Captured before the window: not listed.
        ArchivedPage(
            f"{NORTHFIELD}/2017/09/12/summer-festival-review/",
            "20170913100000",
            article_html(
                "Summer festival review",
                "2017-09-12T09:00:00-04:00",
                ["The summer festival drew large crowds to the river park.", "Organisers plan another next year."],
            ),
        ),
        ArchivedPage(f"{NORTHFIELD}/tag/weinstein/", "20171017080000", b"<html><body>Tag page</body></html>"),
        ArchivedPage(f"{NORTHFIELD}/", "20171017080000", b"<html><body>Front page</body></html>"),
        ArchivedPage(f"{NORTHFIELD}/static/logo.png", "20171017080000", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        ArchivedPage(
            f"{NORTHFIELD}/feed.xml",
            "20171022000000",
            rss(
                [
                    (accusers, "Harvey Weinstein accusers speak out", "Mon, 16 Oct 2017 12:00:00 GMT"),
                    (survivor, "A survivor's account", "Fri, 20 Oct 2017 14:30:00 GMT"),
                    (f"{NORTHFIELD}/2017/09/12/summer-festival-review/", "Summer festival", "Tue, 12 Sep 2017 13:00:00 GMT"),
                ]
            ),
            "application/rss+xml",
        ),
    ]


def harbourview_pages() -> list[ArchivedPage]:
    statement = f"{HARBOURVIEW}/2017/10/17/mcgowan-statement/"
    dredging = f"{HARBOURVIEW}/2017/10/19/harbour-dredging-plan/"
    return [
        ArchivedPage(
            statement,
            "20171017180000",
            article_html(
                "Rose McGowan issues statement",
                "2017-10-17T13:00:00+01:00",
                [
                    "Rose McGowan said she had told executives about Harvey Weinstein long ago.",
                    "Her statement described sexual harassment that others had also reported.",
                ],
            ),
            title="Rose McGowan issues statement",
            outcome="article",
        ),
        # A later capture of the same article, after the window and its margin: not listed.
        ArchivedPage(
            statement,
            "20180601000000",
            article_html(
                "Rose McGowan issues statement (updated)",
                "2017-10-17T13:00:00+01:00",
                ["An updated version.", "Rose McGowan and Harvey Weinstein."],
            ),
        ),
        ArchivedPage(
            dredging,
            "20171019110000",
            article_html(
                "Harbour dredging plan approved",
                "2017-10-19T08:00:00+01:00",
                [
                    "The port authority approved a plan to dredge the eastern channel this winter.",
                    "Fishermen asked for compensation during the months of work.",
                ],
            ),
            title="Harbour dredging plan approved",
            outcome="off-topic",
        ),
        # Captured in the window, published long before it: rejected on its date.
        ArchivedPage(
            f"{HARBOURVIEW}/2016/03/02/weinstein-profile/",
            "20171025100000",
            article_html(
                "A profile of Harvey Weinstein",
                "2016-03-02T08:00:00+00:00",
                ["Harvey Weinstein has produced films for decades.", "Rose McGowan starred in one of them."],
            ),
            title="A profile of Harvey Weinstein",
            outcome="outside window",
        ),
        ArchivedPage(
            f"{HARBOURVIEW}/sitemap-news.xml",
            "20171023000000",
            news_sitemap([(statement, "2017-10-17T13:00:00+01:00"), (dredging, "2017-10-19T08:00:00+01:00")]),
            "application/xml",
        ),
    ]


def all_pages() -> list[ArchivedPage]:
    return northfield_pages() + harbourview_pages()


def expected_articles() -> set[str]:
    return {p.url for p in all_pages() if p.outcome == "article"}


def write_warc(path: Path, pages: list[ArchivedPage]) -> Path:
    """The pages as gzipped WARC response records, as a web archive would have written them."""
    with path.open("wb") as output:
        writer = WARCWriter(output, gzip=True)
        for page in pages:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": page.warc_date},
            )
            writer.write_record(record)
    return path


# --- pywb --------------------------------------------------------------------


def pywb_bin() -> Path:
    """pywb's bin folder, or skip (fail in CI) when it is not installed."""
    folder = Path(os.environ.get("CLIPPINGS_PYWB", PROJECT_ROOT / ".venv-pywb" / "bin"))
    if not (folder / "wayback").is_file() or not (folder / "wb-manager").is_file():
        message = f"pywb not found in {folder} (python3 -m venv .venv-pywb && .venv-pywb/bin/pip install pywb==2.10.0)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the web-archive tests, but {message}")
        pytest.skip(message)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Pywb:
    """pywb's `wayback` on a free loopback port over collections made with `wb-manager`."""

    def __init__(self, root: Path, collections: dict[str, list[Path]]):
        self.root, self.collections = root, collections
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Pywb:
        folder = pywb_bin()
        for name, warcs in self.collections.items():
            self._manage(folder, "init", name)
            self._manage(folder, "add", name, *map(str, warcs))
        self.log = (self.root / "pywb.log").open("wb")
        self.process = subprocess.Popen(
            [str(folder / "wayback"), "-p", str(self.port), "-b", "127.0.0.1"],
            cwd=self.root,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.url}/{next(iter(self.collections))}/cdx?url=example.invalid", self.process)
        return self

    def _manage(self, folder: Path, *args: str) -> None:
        subprocess.run([str(folder / "wb-manager"), *args], cwd=self.root, check=True, capture_output=True)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def wait_for(url: str, process: subprocess.Popen | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {seconds} s")


# --- servers written for the tests ----------------------------------------------


class LoopbackServer:
    """A ThreadingHTTPServer on a free loopback port, in a thread, as a context manager."""

    handler: type[BaseHTTPRequestHandler]

    def __enter__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _RangeHandler(_QuietHandler):
    _RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")

    def do_GET(self) -> None:
        owner: RangeFileServer = self.server.owner
        owner.requests.append(urlsplit(self.path).path)
        if gate := owner.holds.get(urlsplit(self.path).path):
            gate.wait(120)
        path = owner.folder / urlsplit(self.path).path.lstrip("/")
        if ".." in self.path or not path.is_file():
            self.answer(404, b"not found")
            return
        data = path.read_bytes()
        wanted = self.headers.get("Range")
        owner.ranges.append(wanted)
        if urlsplit(self.path).path in owner.break_once:
            owner.break_once.discard(urlsplit(self.path).path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])  # then the connection closes
            self.close_connection = True
            return
        if not wanted or not owner.honour_range:
            self.answer(200, data, {"Content-Type": "application/octet-stream"})
            return
        match = self._RANGE.match(wanted.strip())
        first = int(match[1]) if match else len(data)
        last = min(int(match[2]) if match and match[2] else len(data) - 1, len(data) - 1)
        if first > last:
            self.answer(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            return
        self.answer(
            206,
            data[first : last + 1],
            {"Content-Type": "application/octet-stream", "Content-Range": f"bytes {first}-{last}/{len(data)}"},
        )


class RangeFileServer(LoopbackServer):
    """Serves a folder's files with single-range `Range: bytes=a-b` support (206, Content-Range,
    416), as data.commoncrawl.org serves WARC files; records the Range headers it received.
    With honour_range False it answers every request with the whole file, as servers without
    Range support do. It records the paths asked for; a path in `holds` is answered only once
    its threading.Event is set; a path in `break_once` is answered the first time with half its
    bytes (under a Content-Length of all of them), then the connection closes."""

    handler = _RangeHandler

    def __init__(self, folder: Path):
        self.folder = folder
        self.honour_range = True
        self.ranges: list[str | None] = []
        self.requests: list[str] = []
        self.holds: dict[str, threading.Event] = {}
        self.break_once: set[str] = set()


def surt_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return ",".join(reversed(host.split("."))) + ")" + (parts.path or "/").lower().rstrip("/")


class _WaybackHandler(_QuietHandler):
    FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode")

    def do_GET(self) -> None:
        owner: WaybackStandIn = self.server.owner
        parts = urlsplit(self.path)
        if parts.path == "/cdx/search/cdx":
            owner.cdx_requests.append((time.monotonic(), parse_qs(parts.query)))
            if owner.retry_after is not None and len(owner.cdx_requests) == 1:
                headers = {"Retry-After": str(owner.retry_after)} if owner.retry_after else {}
                self.answer(429, b"Too Many Requests", headers)
                return
            self.cdx(parse_qs(parts.query))
        elif match := re.match(r"^/web/(\d{1,14})id_/(.+)$", self.path):
            self.replay(match[1], match[2])
        else:
            self.answer(404, b"not found")

    def cdx(self, params: dict[str, list[str]]) -> None:
        owner: WaybackStandIn = self.server.owner
        rows = owner.rows(params)
        if params.get("showNumPages") == ["true"]:
            self.answer(200, f"{math.ceil(len(rows) / owner.page_size)}\n".encode(), {"Content-Type": "text/plain"})
            return
        page = int(params.get("page", ["0"])[0])
        rows = rows[page * owner.page_size : (page + 1) * owner.page_size]
        start = int(params.get("resumeKey", ["0"])[0])
        shown = rows[start : start + owner.max_rows]
        answer: list[list] = [list(self.FIELDS), *shown]
        if params.get("showResumeKey") == ["true"] and start + owner.max_rows < len(rows):
            answer += [[], [str(start + owner.max_rows)]]
        self.answer(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def replay(self, timestamp: str, url: str) -> None:
        owner: WaybackStandIn = self.server.owner
        captures = sorted(
            (p for p in owner.pages if p.url == url), key=lambda p: abs(int(p.captured) - int(timestamp.ljust(14, "0")))
        )
        if not captures:
            self.answer(404, b"not archived")
            return
        page = captures[0]
        moment = dt.datetime.strptime(page.captured, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
        self.answer(200, page.body, {"Content-Type": page.content_type, "Memento-Datetime": format_datetime(moment, usegmt=True)})


class WaybackStandIn(LoopbackServer):
    """A stand-in for the Wayback Machine (web.archive.org), which cannot run here: its CDX
    dialect (a JSON array of rows, header row first; a bare page count for showNumPages; pages of
    `page_size` rows; at most `max_rows` rows an answer, then an empty row and a resume key), a 429
    for the first CDX request when `retry_after` is set (with `Retry-After: N`, or none for 0),
    and id_ replay of the
    closest capture with Memento-Datetime. It implements only what the spiders send: url with
    matchType exact, prefix or domain; from/to; the statuscode and mimetype filters; collapse on a field or its first N characters.
    pageSize is ignored: a page is `page_size` rows."""

    handler = _WaybackHandler

    def __init__(self, pages: list[ArchivedPage], retry_after: int | None = None, page_size: int = 4, max_rows: int = 2):
        self.pages, self.retry_after, self.page_size, self.max_rows = pages, retry_after, page_size, max_rows
        self.cdx_requests: list[tuple[float, dict]] = []

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

    def _collapsed(self, rows: list[list[str]], spec: str) -> list[list[str]]:
        """collapse=field or field:N: of adjacent rows equal in the field (its first N
        characters), only the first is kept."""
        name, _, length = spec.partition(":")
        column, width = self.handler.FIELDS.index(name), int(length) if length else None
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

    def _kept(self, row: list[str], params: dict[str, list[str]]) -> bool:
        for spec in params.get("filter", []):
            name, _, pattern = spec.partition(":")
            if not re.fullmatch(pattern, row[self.handler.FIELDS.index(name)]):
                return False
        return True


def copy_warcs(folder: Path, warcs: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for warc in warcs:
        shutil.copy(warc, folder / warc.name)
    return folder


@pytest.fixture(scope="session")
def archived_warcs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture pages as WARC files, one per outlet."""
    folder = tmp_path_factory.mktemp("warcs")
    return {
        "northfield": write_warc(folder / "northfield.warc.gz", northfield_pages()),
        "harbourview": write_warc(folder / "harbourview.warc.gz", harbourview_pages()),
    }


@pytest.fixture(scope="session")
def pywb_archive(tmp_path_factory: pytest.TempPathFactory, archived_warcs: dict[str, Path]):
    """pywb with a Wayback collection `archive` of both outlets, and two Common Crawl style
    collections: CC-MAIN-2017-43 (Northfield) and CC-MAIN-2017-47 (Harbourview)."""
    pywb_bin()
    collections = {
        "archive": list(archived_warcs.values()),
        "CC-MAIN-2017-43": [archived_warcs["northfield"]],
        "CC-MAIN-2017-47": [archived_warcs["harbourview"]],
    }
    with Pywb(tmp_path_factory.mktemp("pywb"), collections) as server:
        yield server
