"""Publication dates with provenance: every signal found, and the most trusted one chosen.

Order of trust, highest first (the first signal that yields a valid date wins):
  1. meta:NAME        article meta tags (article:published_time, og:article:published_time, pubdate, ...)
  2. json-ld          schema.org datePublished of an Article-like object
  3. microdata        an element with itemprop="datePublished" (<time datetime=...>, or a date in words)
  4. url              a date in the URL (/2017/10/16/, -20171016-, 2020-06-03-1.38), or the time a
                      post's id encodes (Twitter/X status ids since November 2010: "snowflake" ids)
  5. htmldate         htmldate's reading of the page (its extensive search, the original date)
  6. feed / sitemap   the date a listing gave for the URL
The day is the outlet's: a time stamp with an offset is read on the outlet's clock (the topic
file's `timezone` of the outlet), one without an offset is the outlet's local time, and a stamp at
00:00:00 UTC is a day, not an instant. When the outlet's time zone is not known, a time stamp in
UTC is read on the offset the page's other stamps state, or gives way to a local date the page
writes on a day the instant reaches in some zone (UTC-12 to UTC+14); htmldate is no witness there.
Modification dates are kept as candidates and as `modified`, never chosen. The capture time (a web
archive's, or the fetch) is only an upper bound: a later signal is kept but marked "after
capture". htmldate's 1 January that no other signal gives is a year, not a day ("year only"). An
article with no signal is "undated". A date htmldate alone read from the text is not `trusted`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.etree
from htmldate.extractors import try_date_expr
from lxml import html as lxml_html

UNDATED = "undated"
HTMLDATE = "htmldate"
AFTER_CAPTURE = "after capture"
YEAR_ONLY = "year only"
ARTICLE_TYPES = re.compile(r"Article$|^BlogPosting$|^Report$|^LiveBlogPosting$")
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "pubdate",
    "publishdate",
    "publish-date",
    "publication_date",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "datepublished",
)
MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "dcterms.modified", "last-modified")
# /2017/10/16/; 2017-10-16 or 2012-06/04 in a path or a slug; 20171016 in a slug
# ("-20171014-story", "alert20190402.html"), not inside a longer number or a hash.
URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d\d)/(?P<m>[01]?\d)/(?P<d>[0-3]?\d)(?:/|$)"
    r"|(?<!\d)(?P<y2>(?:19|20)\d\d)-(?P<m2>[01]\d)[-/](?P<d2>[0-3]\d)(?!\d)"
    r"|(?<![\dA-Za-z])(?P<y3>(?:19|20)\d\d)(?P<m3>[01]\d)(?P<d3>[0-3]\d)(?!\d)"
    r"|(?<=[a-z])(?P<y4>(?:19|20)\d\d)(?P<m4>[01]\d)(?P<d4>[0-3]\d)(?![\dA-Za-z])"
)

# A Twitter/X status id holds its creation time: milliseconds since the snowflake epoch,
# shifted left by 22 bits. Ids of 15 digits or more are snowflakes (older ones are counters).
STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d{15,20})(?:[/?#]|$)")
SNOWFLAKE_EPOCH_MS = 1288834974657

LOOSE_ISO = re.compile(r"((?:19|20)\d\d)-(\d\d?)-(\d\d?)[T ](\d\d?):(\d\d?)(?::(\d\d?)(?:\.\d+)?)?\s*(Z|[+-]\d\d:?\d\d)?$")
# The zones where people live: a UTC instant is some local day between these two.
EARLIEST_ZONE, LATEST_ZONE = dt.timedelta(hours=-12), dt.timedelta(hours=14)


@dataclass(frozen=True)
class DatingRules:
    """The rules of the choice, each of which can be turned off to measure what it is worth
    (benchmarks/ablation.py; BENCHMARKS.md has the table). All are on in the crawl."""

    json_ld: bool = True  # read schema.org datePublished
    meta_tags: bool = True  # read article meta tags
    microdata: bool = True  # read itemprop="datePublished"
    words_in_microdata: bool = True  # a microdata date written in words ("06 Dicembre 2020")
    url: bool = True  # read a date in the URL
    status_id: bool = True  # read the time a Twitter/X status id encodes
    loose_iso: bool = True  # read ISO 8601 as CMSs misspell it ("23:15:0Z", a space for the T)
    htmldate: bool = True  # take htmldate's reading when nothing else dates the page
    written_local_day: bool = True  # a UTC stamp gives way to a local date the page writes
    page_offset: bool = True  # a UTC stamp is read on the offset the page's other stamps state
    midnight_utc: bool = True  # a stamp at 00:00:00 UTC is a day, not an instant
    year_only: bool = True  # htmldate's unsupported 1 January is a year, not a day


RULES = DatingRules()


@dataclass(frozen=True)
class DateCandidate:
    source: str
    value: str  # ISO 8601 as found (date or datetime with offset)
    kind: str = "published"  # or "modified", "after capture", "year only"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "value": self.value, "kind": self.kind}


@dataclass(frozen=True)
class OutletTime:
    """A candidate read on the outlet's clock: its value (with the outlet's offset once a zone
    is known), the outlet's day, and the instant when the time and its offset are known."""

    value: str
    day: str
    instant: dt.datetime | None


@dataclass(frozen=True)
class PublicationDate:
    value: str | None  # ISO 8601: the time stamp with its offset (the outlet's), or a date; None when undated
    source: str  # the signal it came from, or "undated"
    candidates: tuple[DateCandidate, ...]
    day: str | None = field(default=None)  # the outlet's day (value[:10] unless set)
    utc_day: str | None = None  # the UTC day of the instant, when a time and its offset are known

    def __post_init__(self) -> None:
        if self.day is None and self.value:
            object.__setattr__(self, "day", self.value[:10])

    @property
    def trusted(self) -> bool:
        """A date the page (or a listing) states, rather than one htmldate read from its text
        alone: htmldate's guess counts only when another signal gives the same day."""
        if self.value is None:
            return False
        if self.source != HTMLDATE:
            return True
        return any(c.source != HTMLDATE and c.kind == "published" and c.value[:10] == self.day for c in self.candidates)

    @property
    def modified(self) -> str | None:
        """The most trusted modification date, kept apart from the publication date."""
        return next((c.value for c in self.candidates if c.kind == "modified"), None)


def date_publication(
    tree: lxml_html.HtmlElement | None,
    url: str,
    htmldate_value: str | None = None,
    listing_dates: dict[str, str] | None = None,
    not_after: str | None = None,
    json_ld: list[dict] | None = None,
    time_zone: ZoneInfo | None = None,
    rules: DatingRules = RULES,
    stated: list[DateCandidate] | None = None,
) -> PublicationDate:
    """Collect every date signal of a page and choose the publication date.

    `not_after` is when the page was captured (by a web archive, or fetched): a signal
    dated later cannot be the publication date. It stays among the candidates, marked so.
    `json_ld`: the page's json_ld_articles, when the caller has read them already.
    `time_zone`: the outlet's (the topic file's), when known.
    `stated`: the page's own signals (page_candidates), when the caller has read them already.
    """
    if stated is None:
        stated = page_candidates(tree, json_ld, rules) if tree is not None else []
    candidates = list(stated)
    url_date = (date_from_url(url) if rules.url else None) or (date_from_status_id(url) if rules.status_id else None)
    if url_date:
        candidates.append(DateCandidate("url", url_date))
    if rules.htmldate and htmldate_value and (value := normalise_date(htmldate_value)):
        candidates.append(DateCandidate(HTMLDATE, value, _htmldate_kind(value, candidates, rules)))
    for source, value in (listing_dates or {}).items():
        if value and (normalised := normalise_date(value)):
            candidates.append(DateCandidate(source, normalised))
    if not_after:
        candidates = [_bounded(c, not_after[:10]) for c in candidates]
    return choose_published(candidates, time_zone, rules) or PublicationDate(None, UNDATED, tuple(candidates))


def _htmldate_kind(value: str, candidates: list[DateCandidate], rules: DatingRules) -> str:
    """htmldate falls back to a year (a copyright line) as 1 January: no other signal giving
    that day, it is a year, not a day."""
    if rules.year_only and value.endswith("-01-01") and not any(c.value[:10] == value for c in candidates):
        return YEAR_ONLY
    return "published"


def choose_published(
    candidates: list[DateCandidate], time_zone: ZoneInfo | None = None, rules: DatingRules = RULES
) -> PublicationDate | None:
    """The day the most trusted publication candidate gives on the outlet's clock. No vote of the
    other signals overrules it: once htmldate (which reads the same meta tags and URL) had no vote
    and each reading voted once, a vote changed no page of the development corpora (BENCHMARKS.md)."""
    published = [c for c in candidates if c.kind == "published"]
    if not published:
        return None
    clock = {c: on_outlet_clock(c.value, time_zone, rules) for c in published}
    if time_zone is None and rules.written_local_day:
        clock = _written_local_days(published, clock, candidates, rules)
    return _publication_date(published[0], published, clock, tuple(candidates))


def _publication_date(
    chosen: DateCandidate, published: list[DateCandidate], clock: dict, candidates: tuple[DateCandidate, ...]
) -> PublicationDate:
    """The chosen value on the outlet's clock, with the UTC day of the first instant that falls
    on the outlet's day (its own, or another signal's when it states a date alone)."""
    day = clock[chosen].day
    instants = [clock[c].instant for c in [chosen, *published] if clock[c].instant is not None and clock[c].day == day]
    utc_day = instants[0].astimezone(dt.timezone.utc).date().isoformat() if instants else None
    return PublicationDate(clock[chosen].value, chosen.source, candidates, day=day, utc_day=utc_day)


def on_outlet_clock(value: str, time_zone: ZoneInfo | None, rules: DatingRules = RULES) -> OutletTime:
    """A date or time stamp as the outlet's day: an instant is read in the outlet's zone when it is
    known (else as written), a time without offset is the outlet's local time."""
    if len(value) <= 10:
        return OutletTime(value, value, None)
    parsed = dt.datetime.fromisoformat(value)
    if rules.midnight_utc and parsed.utcoffset() == dt.timedelta(0) and parsed.time() == dt.time(0):
        return OutletTime(value[:10], value[:10], None)  # a day stored as its first instant in UTC
    if parsed.tzinfo is None:
        if time_zone is None:
            return OutletTime(value, value[:10], None)
        parsed = parsed.replace(tzinfo=time_zone)
    elif time_zone is not None:
        parsed = parsed.astimezone(time_zone)
    else:
        return OutletTime(value, value[:10], parsed)
    return OutletTime(parsed.isoformat(), parsed.date().isoformat(), parsed)


def _written_local_days(
    published: list[DateCandidate], clock: dict, candidates: list[DateCandidate], rules: DatingRules = RULES
) -> dict:
    """A time stamp in UTC states an instant, not the outlet's day. When the page states a time
    with a non-zero offset elsewhere, that offset is the outlet's clock and the instant is read on
    it; else, when the page states a local date (a plain date, or a time without offset) that the
    instant falls on in some time zone (UTC-12 to UTC+14), that local date is the stamp's day.
    htmldate is no witness here: it reads the same UTC stamps."""
    offset = _stated_offset(candidates) if rules.page_offset else None
    local_days = [clock[c].day for c in published if c.source != HTMLDATE and not _in_utc(clock[c])]
    read = dict(clock)
    for candidate in published:
        if not _in_utc(clock[candidate]):
            continue
        instant = clock[candidate].instant
        if offset is not None:
            local = instant.astimezone(offset)
            read[candidate] = OutletTime(local.isoformat(), local.date().isoformat(), instant)
        elif day := next((d for d in local_days if d in days_reached(instant) - {clock[candidate].day}), None):
            read[candidate] = OutletTime(candidate.value, day, instant)
    return read


def _stated_offset(candidates: list[DateCandidate]) -> dt.timezone | None:
    """The first non-zero UTC offset a time stamp of the page states (htmldate's aside)."""
    for candidate in candidates:
        if candidate.source != HTMLDATE and len(candidate.value) > 10:
            offset = dt.datetime.fromisoformat(candidate.value).utcoffset()
            if offset:
                return dt.timezone(offset)
    return None


def days_reached(instant: dt.datetime) -> set[str]:
    """The days an instant falls on in some zone from UTC-12 to UTC+14."""
    return {(instant + offset).date().isoformat() for offset in (EARLIEST_ZONE, LATEST_ZONE)}


def _in_utc(time: OutletTime) -> bool:
    """A time stamp in UTC: an instant, which says nothing of the outlet's own clock."""
    return time.instant is not None and time.instant.utcoffset() == dt.timedelta(0)


def _bounded(candidate: DateCandidate, last_day: str) -> DateCandidate:
    if candidate.kind == "published" and candidate.value[:10] > last_day:
        return DateCandidate(candidate.source, candidate.value, AFTER_CAPTURE)
    return candidate


def page_candidates(
    tree: lxml_html.HtmlElement, json_ld: list[dict] | None = None, rules: DatingRules = RULES
) -> list[DateCandidate]:
    """The dates the page's markup states (meta tags, JSON-LD, microdata), most trusted first.
    `json_ld`: the page's json_ld_articles, when the caller has read them already."""
    return list(_page_candidates(tree, list(json_ld_articles(tree)) if json_ld is None else json_ld, rules))


DATE_PUBLISHED_ELEMENTS = lxml.etree.XPath('//*[@itemprop="datePublished"]')
JSON_LD_SCRIPTS = lxml.etree.XPath('//script[@type="application/ld+json"]/text()')
META_WITH_CONTENT = lxml.etree.XPath("//meta[@content]")


def _page_candidates(tree: lxml_html.HtmlElement, json_ld: list[dict], rules: DatingRules = RULES) -> Iterator[DateCandidate]:
    loose = rules.loose_iso
    if rules.meta_tags:
        yield from _meta_candidates(tree, loose)
    if rules.json_ld:
        yield from _json_ld_candidates(json_ld, loose)
    if rules.microdata:
        for element in DATE_PUBLISHED_ELEMENTS(tree):
            raw = element.get("datetime") or element.get("content") or element.text_content()
            if value := normalise_date(raw, loose) or (written_date(raw) if rules.words_in_microdata else None):
                yield DateCandidate("microdata", value)
                break


def _json_ld_candidates(json_ld: list[dict], loose: bool = True) -> Iterator[DateCandidate]:
    for node in json_ld:
        for key, kind in (("datePublished", "published"), ("dateModified", "modified")):
            if value := normalise_date(node.get(key), loose):
                yield DateCandidate("json-ld", value, kind)


def json_ld_articles(tree: lxml_html.HtmlElement) -> Iterator[dict]:
    """The page's schema.org Article-like objects (NewsArticle, BlogPosting, ...), in page order."""
    for script in JSON_LD_SCRIPTS(tree):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for node in _json_ld_nodes(data):
            types = node.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and ARTICLE_TYPES.search(t) for t in types):
                yield node


def _json_ld_nodes(data: object) -> Iterator[dict]:
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _json_ld_nodes(data.get("@graph", []))


def _meta_candidates(tree: lxml_html.HtmlElement, loose: bool = True) -> Iterator[DateCandidate]:
    found: dict[str, str] = {}
    for meta in META_WITH_CONTENT(tree):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name and name not in found:
            found[name] = meta.get("content")
    for names, kind in ((PUBLISHED_META, "published"), (MODIFIED_META, "modified")):
        for name in names:
            if name in found and (value := normalise_date(found[name], loose)):
                yield DateCandidate(f"meta:{name}", value, kind)


def date_from_url(url: str) -> str | None:
    """A date written in the URL's path, e.g. /2017/10/16/ or -20171014-story."""
    try:
        path = urlsplit(url).path
    except ValueError:  # a malformed host ("http://[x"): the path as written
        path = url.split("?", 1)[0].split("#", 1)[0]
    for match in URL_DATE.finditer(path):
        y, m, d = (next(match.group(g + n) for n in ("", "2", "3", "4") if match.group(g + n)) for g in "ymd")
        try:
            return dt.date(int(y), int(m), int(d)).isoformat()
        except ValueError:
            continue
    return None


def date_from_status_id(url: str) -> str | None:
    """The creation time a Twitter/X status URL's id encodes, as ISO 8601 UTC."""
    if not (match := STATUS_URL.match(url)):
        return None
    milliseconds = (int(match.group(1)) >> 22) + SNOWFLAKE_EPOCH_MS
    created = dt.datetime.fromtimestamp(milliseconds / 1000, dt.timezone.utc)
    return created.replace(microsecond=0).isoformat()


def normalise_date(raw: object, loose: bool = True) -> str | None:
    """ISO 8601 text for a date string in ISO or RFC 822 form; None when it is not a date.
    `loose`: also ISO 8601 as CMSs misspell it (_loose_iso)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _rfc822(text) or (_loose_iso(text) if loose else None) or _leading_iso_date(text)
    if parsed is None or not 1990 <= parsed.year <= dt.date.today().year + 1:
        return None
    if isinstance(parsed, dt.datetime):
        if parsed.time() == dt.time(0) and parsed.tzinfo is None and len(text) <= 10:
            return parsed.date().isoformat()
        return parsed.isoformat()
    return parsed.isoformat()


def written_date(text: str) -> str | None:
    """A date written out in words, in any language htmldate knows ("06 Dicembre 2020"), as an
    ISO day; None when there is none."""
    if not text or len(text) > 100:
        return None
    return try_date_expr(text, "%Y-%m-%d", True, dt.datetime(1990, 1, 1), dt.datetime(dt.date.today().year + 1, 12, 31))


def _loose_iso(text: str) -> dt.datetime | None:
    """ISO 8601 as CMSs misspell it: one-digit fields ("23:15:0Z"), a space for the "T"."""
    match = LOOSE_ISO.match(text)
    if not match:
        return None
    y, mo, d, h, mi, sec, zone = match.groups()
    try:
        tz = (
            None
            if zone is None
            else dt.timezone.utc
            if zone == "Z"
            else dt.timezone((1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:])))
        )
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), tzinfo=tz)
    except ValueError:
        return None


def _rfc822(text: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _leading_iso_date(text: str) -> dt.date | None:
    match = re.match(r"((?:19|20)\d\d)-(\d\d)-(\d\d)", text)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
