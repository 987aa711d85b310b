"""Web-archive fixtures, reusable by any test: the archived pages of two fictional outlets written into
WARC files with warcio, and pywb serving them (a Wayback server and a Common Crawl style index). The
plain HTTP servers (files with Range support for the WARC records, the Wayback Machine's CDX dialect,
which pywb does not speak) are loopback sites of `tests.sites`.

pywb runs from its own virtualenv (installed beside Scrapy it breaks Scrapy's brotli decoding):
CLIPPINGS_PYWB names its bin folder, by default .venv-pywb/bin in the checkout (`.ci/run` makes it).
Without it the tests that need it skip, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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
