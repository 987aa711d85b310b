"""Backfill the window from Common Crawl: its indexes of the crawls covering the window, then each
article's WARC record fetched by an HTTP Range request and read with warcio."""

from __future__ import annotations

import datetime as dt
import io
import json
import zlib
from typing import Any

import scrapy
from scrapy.http import Response
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawlers.cdx import Capture
from crawlers.items import FetchedPage
from crawlers.spiders.archived import CapturesSpider
from crawlers.spiders.base import utc_now

# warcio hands over the payload without its transfer and content encodings (as Scrapy does for a
# live fetch), so the headers naming them no longer describe the body.
DECODED_HEADERS = ("transfer-encoding", "content-encoding")


class UnreadableRecord(Exception):
    """The bytes at the index's offset are not a WARC response record."""


class CommoncrawlSpider(CapturesSpider):
    """The crawls are COMMONCRAWL_CRAWLS when set, else those whose dates in the index server's
    collinfo.json (COMMONCRAWL_COLLINFO_URL) overlap the window and its capture margin."""

    name = "commoncrawl"
    source = "commoncrawl"
    service_settings = ("COMMONCRAWL_INDEX_URL", "COMMONCRAWL_DATA_URL", "COMMONCRAWL_COLLINFO_URL")

    async def start(self):
        crawls = self.settings.getlist("COMMONCRAWL_CRAWLS")
        if crawls:
            for request in self.index_requests(crawls):
                yield request
        else:
            yield self.request(self.settings["COMMONCRAWL_COLLINFO_URL"], self.parse_collinfo)

    def parse_collinfo(self, response: Response):
        try:
            crawls = crawls_covering(json.loads(response.body), *self.capture_days())
        except (ValueError, TypeError, KeyError) as error:
            yield self.failure(response.url, f"unreadable collinfo.json ({type(error).__name__}: {error})")
            return
        yield from self.index_requests(crawls)

    def capture_days(self) -> tuple[dt.date, dt.date]:
        start, end = self.capture_range()
        return dt.datetime.strptime(start, "%Y%m%d").date(), dt.datetime.strptime(end, "%Y%m%d").date()

    def index_requests(self, crawls: list[str]):
        self.logger.info("Common Crawl crawls: %s", ", ".join(crawls) or "none covers the window")
        for crawl in crawls:
            for query in self.capture_queries(self.settings["COMMONCRAWL_INDEX_URL"].format(crawl=crawl)):
                yield self.cdx_request(query, "articles")

    def listed_captures(self, captures: list[Capture], kind: str, **cb_kwargs: Any):
        for capture in captures:
            if not self.wanted(capture):
                continue
            if not capture.filename or capture.offset is None or not capture.length:
                yield self.failure(capture.url, "the index gives no WARC record (filename, offset, length)")
                continue
            yield self.record_request(capture)

    def record_request(self, capture: Capture) -> scrapy.Request:
        last = capture.offset + capture.length - 1
        url = self.settings["COMMONCRAWL_DATA_URL"] + capture.filename
        request = self.request(url, self.parse_record, capture=capture)
        if isinstance(request, scrapy.Request):
            request.headers["Range"] = f"bytes={capture.offset}-{last}"
            request.priority = self.article_urls.rank(capture.url)
            # One WARC file holds many records: the URL alone does not tell requests apart, and
            # wanted() has already made sure each original URL is requested once.
            request.dont_filter = True
        return request

    def parse_record(self, response: Response, capture: Capture):
        where = f"{response.url} bytes {capture.offset}+{capture.length}"
        if response.status != 206 and len(response.body) != capture.length:
            yield self.failure(capture.url, f"{where}: the data server ignored the Range request (HTTP {response.status})",
                               response.status)
            return
        try:
            page = self.record_page(response.body, capture)
        except UnreadableRecord as reason:
            yield self.failure(capture.url, f"unreadable WARC record at {where}: {reason}")
            return
        page.record_file = response.url
        yield page

    def record_page(self, data: bytes, capture: Capture) -> FetchedPage:
        """The archived HTTP response in a gzipped WARC record, as the pipelines take a page."""
        try:
            record = next(iter(ArchiveIterator(io.BytesIO(data))), None)
            if record is None or record.rec_type != "response" or record.http_headers is None:
                kind = record.rec_type if record is not None else "nothing"
                raise UnreadableRecord(f"a {kind} record, not an HTTP response")
            url = record.rec_headers.get_header("WARC-Target-URI") or capture.url
            archived_at = warc_date(record.rec_headers.get_header("WARC-Date"))
            status = int(record.http_headers.get_statuscode() or 0)
            headers = http_headers(record.http_headers.headers)
            body = record.content_stream().read()
        except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as error:
            raise UnreadableRecord(f"{type(error).__name__}: {error}") from None
        if status != 200:
            raise UnreadableRecord(f"the archived response is HTTP {status}, not a page")
        return FetchedPage(
            url=url, final_url=url, status=status, headers=headers, body=body, fetched_at=utc_now(),
            spider=self.name, crawl_run_id=self.crawl_run_id, source=self.source, archived_at=archived_at,
            record_offset=capture.offset, record_length=capture.length,
        )


def http_headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The record's HTTP headers as FetchedPage holds them, less those the decoding undid."""
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.lower() not in DECODED_HEADERS:
            headers.setdefault(name.lower(), []).append(value)
    return headers


def warc_date(value: str | None) -> str | None:
    """WARC-Date (ISO 8601, UTC) in the archive's form: 2017-10-16T09:30:00+00:00."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def crawls_covering(collections: list[dict], start: dt.date, end: dt.date) -> list[str]:
    """The ids of the crawls in collinfo.json whose dates overlap start..end."""
    crawls = []
    for collection in collections:
        first, last = crawl_dates(collection)
        if first <= end and start <= last:
            crawls.append(str(collection["id"]))
    return sorted(crawls)


def crawl_dates(collection: dict) -> tuple[dt.date, dt.date]:
    """A crawl's first and last day: collinfo.json's from and to, or, where an entry lacks them,
    the three ISO weeks ending with the week its id names (CC-MAIN-2017-43: 2017-10-09..29; the
    crawl ran 2017-10-16..24)."""
    if collection.get("from") and collection.get("to"):
        return dt.date.fromisoformat(str(collection["from"])[:10]), dt.date.fromisoformat(str(collection["to"])[:10])
    _, year, week = str(collection["id"]).rsplit("-", 2)
    last = dt.date.fromisocalendar(int(year), int(week), 7)
    return last - dt.timedelta(days=20), last
