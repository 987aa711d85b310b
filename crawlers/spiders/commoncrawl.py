"""Backfill the window from Common Crawl: its indexes of the crawls covering the window, then each
article's WARC record fetched by an HTTP Range request and read as `clippings import` reads one
(pipelines/sources/warcrecords.py, pipelines/sources/httpmessages.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.spiders.archived import CapturesSpider
from pipelines.core.items import FetchedPage
from pipelines.sources.cdx import Capture
from pipelines.sources.httpmessages import BodyTooLarge, UnreadableResponse, decoded_body, parse_response
from pipelines.sources.warcrecords import HEAD_LIMIT, Damage, read_records
from pipelines.sources.warcs import Provenance, archived_page


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
            yield self.failure(
                capture.url, f"{where}: the data server ignored the Range request (HTTP {response.status})", response.status
            )
            return
        try:
            page = self.record_page(response.body, capture)
        except UnreadableRecord as reason:
            yield self.failure(capture.url, f"unreadable WARC record at {where}: {reason}")
            return
        page.record_file = response.url
        yield page

    def record_page(self, data: bytes, capture: Capture) -> FetchedPage:
        """The archived HTTP response in a gzipped WARC record, as the pipelines take a page:
        its body undone of its transfer and content encodings (as Scrapy undoes a live
        fetch's), at most DOWNLOAD_MAXSIZE bytes."""
        max_body = self.settings.getint("DOWNLOAD_MAXSIZE")
        records = read_records(
            io.BytesIO(data), lambda headers: max_body + HEAD_LIMIT, self.settings.getint("WARC_MAX_INFLATION")
        )
        record = next(records, None)
        if isinstance(record, Damage):
            raise UnreadableRecord(record.reason)
        if record is None or record.type != "response":
            raise UnreadableRecord(f"a {record.type if record else 'missing'} record, not an HTTP response")
        try:
            response = parse_response(record.block, complete=len(record.block) == record.block_length)
            if response.status != 200:
                raise UnreadableRecord(f"the archived response is HTTP {response.status}, not a page")
            body = decoded_body(response, max_body)
        except UnreadableResponse as error:
            raise UnreadableRecord(str(error)) from None
        except BodyTooLarge:
            raise UnreadableRecord(f"the archived page is larger than DOWNLOAD_MAXSIZE ({max_body} bytes)") from None
        provenance = Provenance(self.crawl_run_id, self.name, self.source)
        return archived_page(record, response, body, provenance, None, capture.offset, capture.length, capture.url)


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
