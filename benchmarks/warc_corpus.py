"""A WARC.gz for the import benchmarks: the real pages of ../shared/bench/extraction (news of
2019, unrelated to #MeToo) repeated at distinct URLs, with a few on-topic pages of the demo
site mixed in, as a CC-NEWS file mostly about other things would be."""

from __future__ import annotations

import gzip
import io
import json
import urllib.request
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from clippings.cli import demo_topic
from clippings.demo import DemoSite

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = CHECKOUT.parent / "shared" / "bench" / "extraction"


def bench_pages(data_dir: Path) -> list[tuple[str, bytes]]:
    """(url, html) of every benchmark page."""
    truth = json.loads((data_dir / "ground-truth.json").read_text())
    return [
        (entry["url"], gzip.decompress((data_dir / "html" / f"{page_id}.html.gz").read_bytes()))
        for page_id, entry in sorted(truth.items())
    ]


def demo_pages() -> tuple[list[tuple[str, bytes]], str]:
    """(url, html) of the demo site's on-topic articles, and a topic file naming its outlets."""
    with DemoSite() as site:
        pages = [
            (site.url(p), urllib.request.urlopen(site.url(p), timeout=10).read())
            for p in site.pages
            if p.kind == "article" and p.on_topic and p.in_window
        ]
        topic = demo_topic(site.outlets)
    return pages, topic


def write_corpus(path: Path, data_dir: Path, copies: int, on_topic_every: int = 50) -> tuple[int, int, str]:
    """Write the WARC.gz: each benchmark page `copies` times (as /copy-N of its URL), one demo
    on-topic page after every `on_topic_every` records. Returns (records, on-topic records,
    the topic file's text)."""
    pages = bench_pages(data_dir)
    topical, topic = demo_pages()
    records = on_topic = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for copy in range(copies):
            for url, html in pages:
                _write(writer, f"{url.rstrip('/')}/copy-{copy}", html)
                records += 1
                if records % on_topic_every == 0:
                    topical_url, topical_html = topical[on_topic % len(topical)]
                    _write(writer, f"{topical_url}?copy={on_topic}", topical_html)
                    on_topic += 1
    return records + on_topic, on_topic, topic


def _write(writer: WARCWriter, url: str, html: bytes) -> None:
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            url, "response", payload=io.BytesIO(html), http_headers=http, warc_headers_dict={"WARC-Date": "2017-10-20T12:00:00Z"}
        )
    )


def write_topic(path: Path, topic_text: str) -> Path:
    path.write_text(topic_text)
    return path
