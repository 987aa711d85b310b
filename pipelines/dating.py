"""Publication dates with provenance: every signal found, and the most trusted one chosen.

Order of trust, highest first (the first signal that yields a valid date wins):
  1. json-ld          schema.org datePublished of an Article-like object
  2. meta:NAME        article meta tags (article:published_time, pubdate, DC.date.issued, ...)
  3. microdata        an element with itemprop="datePublished" (<time datetime=...>, or a date in words)
  4. url              a date path in the URL (/2017/10/16/ or -20171016-), or the time a post's
                      id encodes (Twitter/X status ids since November 2010: "snowflake" ids)
  5. htmldate         htmldate's reading of the page (via trafilatura's metadata)
  6. feed / sitemap   the date a listing gave for the URL
The most trusted one is chosen unless more independent signals (meta tags count once)
agree on another day. A time stamp in UTC gives way to a local date the page writes (a
microdata date in words, a date without offset) on a day the instant reaches in some time zone. Modification dates (dateModified, article:modified_time) are kept as
candidates and as `modified`, never chosen. The capture time (a web archive's, or the fetch)
is only an upper bound: a later signal is kept but marked "after capture". It is never a
candidate itself: an article with no signal is "undated". A date htmldate alone read from
the text is not `trusted`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from htmldate.extractors import try_date_expr
from lxml import html as lxml_html

UNDATED = "undated"
HTMLDATE = "htmldate"
ARTICLE_TYPES = re.compile(r"Article$|^BlogPosting$|^Report$|^LiveBlogPosting$")
PUBLISHED_META = (
    "article:published_time",
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
MODIFIED_META = ("article:modified_time", "og:updated_time", "dcterms.modified", "last-modified")
URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d\d)/(?P<m>[01]?\d)/(?P<d>[0-3]?\d)(?:/|$)"
    r"|/(?P<y2>(?:19|20)\d\d)-(?P<m2>[01]\d)-(?P<d2>[0-3]\d)(?:/|$)"
    r"|[-_/](?P<y3>(?:19|20)\d\d)(?P<m3>[01]\d)(?P<d3>[0-3]\d)(?:[-_./]|$)"
)

# A Twitter/X status id holds its creation time: milliseconds since the snowflake epoch,
# shifted left by 22 bits. Ids of 15 digits or more are snowflakes (older ones are counters).
STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/(\d{15,20})(?:[/?#]|$)")
SNOWFLAKE_EPOCH_MS = 1288834974657

# The newsroom's clock of countries whose country-code domain points to one dominant time
# zone (by population, for countries with several): a UTC stamp on such a site is read as
# the local day there. Generic domains (.com, .org) say nothing: their stamps stay in UTC.
COUNTRY_TIME_ZONES = {
    "at": "Europe/Vienna", "au": "Australia/Sydney", "be": "Europe/Brussels", "br": "America/Sao_Paulo",
    "ca": "America/Toronto", "ch": "Europe/Zurich", "cn": "Asia/Shanghai", "cz": "Europe/Prague",
    "de": "Europe/Berlin", "dk": "Europe/Copenhagen", "es": "Europe/Madrid", "fi": "Europe/Helsinki",
    "fr": "Europe/Paris", "gr": "Europe/Athens", "hk": "Asia/Hong_Kong", "ie": "Europe/Dublin",
    "il": "Asia/Jerusalem", "in": "Asia/Kolkata", "it": "Europe/Rome", "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul", "mx": "America/Mexico_City", "nl": "Europe/Amsterdam", "no": "Europe/Oslo",
    "nz": "Pacific/Auckland", "pl": "Europe/Warsaw", "pt": "Europe/Lisbon", "ru": "Europe/Moscow",
    "se": "Europe/Stockholm", "tr": "Europe/Istanbul", "tw": "Asia/Taipei", "ua": "Europe/Kyiv",
    "uk": "Europe/London", "za": "Africa/Johannesburg",
}

LOOSE_ISO = re.compile(
    r"((?:19|20)\d\d)-(\d\d?)-(\d\d?)[T ](\d\d?):(\d\d?)(?::(\d\d?)(?:\.\d+)?)?\s*(Z|[+-]\d\d:?\d\d)?$"
)


@dataclass(frozen=True)
class DateCandidate:
    source: str
    value: str  # ISO 8601 as found (date or datetime with offset)
    kind: str = "published"  # or "modified"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "value": self.value, "kind": self.kind}


@dataclass(frozen=True)
class PublicationDate:
    value: str | None  # ISO 8601, local time as published; None when undated
    source: str  # the signal it came from, or "undated"
    candidates: tuple[DateCandidate, ...]

    @property
    def day(self) -> str | None:
        return self.value[:10] if self.value else None

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
) -> PublicationDate:
    """Collect every date signal of a page and choose the most trusted publication date.

    `not_after` is when the page was captured (by a web archive, or fetched): a signal
    dated later cannot be the publication date. It stays among the candidates, marked so.
    `json_ld`: the page's json_ld_articles, when the caller has read them already.
    """
    if tree is not None and json_ld is None:
        json_ld = list(json_ld_articles(tree))
    candidates = list(_page_candidates(tree, json_ld)) if tree is not None else []
    if url_date := date_from_url(url) or date_from_status_id(url):
        candidates.append(DateCandidate("url", url_date))
    if htmldate_value and (value := normalise_date(htmldate_value)):
        candidates.append(DateCandidate(HTMLDATE, value))
    for source, value in (listing_dates or {}).items():
        if value and (normalised := normalise_date(value)):
            candidates.append(DateCandidate(source, normalised))
    if not_after:
        candidates = [_bounded(c, not_after[:10]) for c in candidates]
    chosen = choose_published(candidates, site_time_zone(url))
    if chosen is None:
        return PublicationDate(None, UNDATED, tuple(candidates))
    return PublicationDate(chosen.value, chosen.source, tuple(candidates))


def choose_published(candidates: list[DateCandidate], time_zone: ZoneInfo | None = None) -> DateCandidate | None:
    """The most trusted publication candidate, unless more independent signals agree on
    another day: a CMS that writes a wrong time zone into one field is outvoted by the rest.
    A UTC stamp is read on the site's own clock (`time_zone`) when the page states no local date."""
    published = [c for c in candidates if c.kind == "published"]
    if not published:
        return None
    support: dict[str, set[str]] = {}
    for candidate in published:
        support.setdefault(candidate.value[:10], set()).add(signal_family(candidate.source))
    most = max(len(families) for families in support.values())
    chosen = published[0]
    if len(support[chosen.value[:10]]) < most:
        chosen = next(c for c in published if len(support[c.value[:10]]) == most)
    return _local_day_for(chosen, published, time_zone)


def site_time_zone(url: str) -> ZoneInfo | None:
    """The time zone a site's country-code domain implies (COUNTRY_TIME_ZONES), if any."""
    suffix = (urlsplit(url).hostname or "").rsplit(".", 1)[-1]
    name = COUNTRY_TIME_ZONES.get(suffix)
    return ZoneInfo(name) if name else None


def _local_day_for(chosen: DateCandidate, published: list[DateCandidate],
                   time_zone: ZoneInfo | None = None) -> DateCandidate:
    """A time stamp in UTC states an instant, not the outlet's day: when the page also states a
    local date (no UTC offset: a plain date, or a time with the outlet's own offset) that the
    instant falls on in some time zone (UTC-12 to UTC+14), that local date is the day published.
    htmldate is no witness here: it reads the same UTC stamps."""
    instant = _utc_instant(chosen.value)
    if instant is None:
        return chosen
    reachable = {(instant + dt.timedelta(hours=hours)).date().isoformat() for hours in (-12, 14)}
    for candidate in published:
        day = candidate.value[:10]
        if candidate.source != HTMLDATE and day != chosen.value[:10] and day in reachable and _is_local(candidate.value):
            return candidate
    if time_zone is not None:
        return DateCandidate(chosen.source, instant.astimezone(time_zone).isoformat(), chosen.kind)
    return chosen


def _utc_instant(value: str) -> dt.datetime | None:
    """The value as a datetime when it is a time stamp in UTC, else None."""
    if len(value) <= 10:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.utcoffset() == dt.timedelta(0) else None


def _is_local(value: str) -> bool:
    return len(value) <= 10 or dt.datetime.fromisoformat(value).utcoffset() not in (None, dt.timedelta(0))


def signal_family(source: str) -> str:
    """Signals that are one reading of the page count once: all meta tags are the CMS's."""
    return source.split(":", 1)[0]


def _bounded(candidate: DateCandidate, last_day: str) -> DateCandidate:
    if candidate.kind == "published" and candidate.value[:10] > last_day:
        return DateCandidate(candidate.source, candidate.value, "after capture")
    return candidate


def _page_candidates(tree: lxml_html.HtmlElement, json_ld: list[dict]) -> Iterator[DateCandidate]:
    yield from _json_ld_candidates(json_ld)
    yield from _meta_candidates(tree)
    for element in tree.xpath('//*[@itemprop="datePublished"]'):
        raw = element.get("datetime") or element.get("content") or element.text_content()
        if value := normalise_date(raw) or written_date(raw):
            yield DateCandidate("microdata", value)
            break


def _json_ld_candidates(json_ld: list[dict]) -> Iterator[DateCandidate]:
    for node in json_ld:
        for key, kind in (("datePublished", "published"), ("dateModified", "modified")):
            if value := normalise_date(node.get(key)):
                yield DateCandidate("json-ld", value, kind)


def json_ld_articles(tree: lxml_html.HtmlElement) -> Iterator[dict]:
    """The page's schema.org Article-like objects (NewsArticle, BlogPosting, ...), in page order."""
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
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


def _meta_candidates(tree: lxml_html.HtmlElement) -> Iterator[DateCandidate]:
    found: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name and name not in found:
            found[name] = meta.get("content")
    for names, kind in ((PUBLISHED_META, "published"), (MODIFIED_META, "modified")):
        for name in names:
            if name in found and (value := normalise_date(found[name])):
                yield DateCandidate(f"meta:{name}", value, kind)


def date_from_url(url: str) -> str | None:
    """A date written in the URL's path, e.g. /2017/10/16/ or -20171014-story."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    for match in URL_DATE.finditer(path):
        y, m, d = (match.group(g) or match.group(g + "2") or match.group(g + "3") for g in "ymd")
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


def normalise_date(raw: object) -> str | None:
    """ISO 8601 text for a date string in ISO or RFC 822 form; None when it is not a date."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _rfc822(text) or _loose_iso(text) or _leading_iso_date(text)
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
        tz = None if zone is None else dt.timezone.utc if zone == "Z" else dt.timezone(
            (1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:])))
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
