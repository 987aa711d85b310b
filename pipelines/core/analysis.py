"""What a fetched page is, as plain functions: respect, extract, relate to the topic. The crawl's
item pipelines, `clippings import` and `clippings reextract` all call these, so a page takes one
code path whatever its source.

analyse_page() is the CPU-bound part and touches no database: it can run in a worker process.
The writer's part, on one archive connection, is pipelines/store/pages.py.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pipelines.core.canonical import canonical_url, web_url
from pipelines.core.extraction import Article, NotAnArticle, decode_html, extract_article
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import OffTopic, TopicMatch, TopicMatcher
from pipelines.core.thresholds import Thresholds

HTML_TYPES = ("text/html", "application/xhtml+xml")
NOARCHIVE = re.compile(rb"<meta[^>]+name=[\"']?(?:robots|[\w-]*bot)[\"']?[^>]*>", re.IGNORECASE)


class Rejected(Exception):
    """An expected reject: the page was fetched, but is not (or not again) an article. The crawl's
    item pipelines turn it into Scrapy's DropItem (crawlers/stages.py)."""

    def __init__(self, stage: str, reason: str):
        super().__init__(reason)
        self.stage = stage
        self.reason = reason

    def __reduce__(self):  # so a reject crosses from a worker process intact
        return (Rejected, (self.stage, self.reason))


def check_respect(page: FetchedPage) -> None:
    """Pages that ask not to be archived (noarchive) are rejected before anything is kept."""
    header = ",".join(page.headers.get("x-robots-tag", []))
    if _says_noarchive(header.encode()):
        raise Rejected("respect", f"noarchive: X-Robots-Tag {header!r}")
    for tag in NOARCHIVE.findall(page.body[:65536]):
        if _says_noarchive(tag):
            raise Rejected("respect", f"noarchive: {tag.decode(errors='replace')}")


def _says_noarchive(directives: bytes) -> bool:
    content = directives.lower()
    return b"noarchive" in content or re.search(rb"\bnone\b", content) is not None


def extract_page(
    page: FetchedPage, thresholds: Thresholds, boilerplate: frozenset[str] = frozenset(), time_zone: ZoneInfo | None = None
) -> Article:
    """The page's article by the shared extraction function; Rejected("extract", why) otherwise.
    `thresholds`: the run's (its minimum words, its `thin` flag).
    `boilerplate`: fingerprints of the lines the page's outlet repeats (Archive.boilerplate).
    `time_zone`: the outlet's, from the topic file (Topic.time_zone_for).
    A page whose own URL is not an http(s) address (a web archive may name a javascript: URL as
    the original) is not a web page: its URL would become a link to run."""
    if not _is_web_page(page.final_url):
        raise Rejected("extract", f"not a web page: its URL {page.final_url!r} is not an http(s) address")
    content_type = (page.header("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        raise Rejected("extract", f"not an HTML page ({content_type})")
    if _looks_binary(page.body):
        raise Rejected("extract", "not an HTML page (binary content)")
    html = decode_html(page.body, page.header("content-type"))
    try:
        return extract_article(
            html,
            page.final_url,
            page.listing_dates,
            thresholds.min_article_words,
            thin_words=thresholds.thin_words,
            captured_at=page.archived_at or page.fetched_at,
            boilerplate=boilerplate,
            time_zone=time_zone,
        )
    except NotAnArticle as reason:
        raise Rejected("extract", str(reason)) from None


def _is_web_page(url: str) -> bool:
    try:
        return web_url(canonical_url(url)) is not None
    except ValueError:  # urlsplit: a broken host ("http://[::1")
        return False


def _looks_binary(body: bytes) -> bool:
    """NUL bytes early on mean an image, a PDF or an executable, not HTML (UTF-16 aside)."""
    return b"\x00" in body[:4096] and not body.startswith((b"\xff\xfe", b"\xfe\xff"))


def match_topic(article: Article, matcher: TopicMatcher) -> TopicMatch:
    """The article's match with the topic; Rejected("topic", why) when out of window or off-topic."""
    topic = matcher.topic
    day = article.published.day
    if day and not topic.in_window(dt.date.fromisoformat(day)):
        raise Rejected("topic", f"outside the window {topic.start}..{topic.end}: published {day}")
    try:
        return matcher.decide(article.title, article.text)
    except OffTopic as reason:
        raise Rejected("topic", str(reason)) from None


def analyse_page(
    page: FetchedPage, matcher: TopicMatcher, thresholds: Thresholds, boilerplate: frozenset[str] = frozenset()
) -> FetchedPage:
    """Respect, extract and relate to the topic: the page with .article and .topic_match filled
    in, or Rejected with the stage and the reason."""
    page.article, page.topic_match = page_analysis(page, boilerplate, matcher, thresholds)
    page.boilerplate = boilerplate
    return page


def page_analysis(
    page: FetchedPage, boilerplate: frozenset[str], matcher: TopicMatcher, thresholds: Thresholds
) -> tuple[Article, TopicMatch]:
    """analyse_page's findings alone: what a worker process sends back to the crawl's process,
    which holds the page already (its body is most of what pickling the page would cost)."""
    check_respect(page)
    article = extract_page(page, thresholds, boilerplate, matcher.topic.time_zone_for(page.final_url))
    return article, match_topic(article, matcher)


@dataclass
class Failed:
    """The analysis raised something other than a reject (a bug, a page that breaks a library),
    or the page killed its worker process twice: `clippings import` and `clippings reextract`
    report it (which page, what error) and count it as an error; the crawl records it as a reject."""

    url: str
    error: str


Outcome = FetchedPage | Rejected | Failed


def analyse_one(page: FetchedPage, matcher: TopicMatcher, thresholds: Thresholds, boilerplate: frozenset[str]) -> Outcome:
    """analyse_page, its reject or its failure, as a value (it crosses from a worker process)."""
    try:
        return analyse_page(page, matcher, thresholds, boilerplate)
    except Rejected as reject:
        return reject
    except Exception as error:  # reported per page by the writer, see Failed
        where = traceback.extract_tb(error.__traceback__)[-1]
        return Failed(page.url, f"{type(error).__name__}: {error} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
