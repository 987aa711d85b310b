"""Which archived URLs are worth fetching, judged from the URL alone, before a capture is fetched.

An archive lists every URL of an outlet it holds: front pages, tag pages, images, scripts.
Two cheap tests run on each listed URL:

- **article URL** (a filter): the outlet's `article_patterns` from the topic when it lists any,
  else a heuristic: no asset extension, no tag/author/section/search/feed path, and a date in
  the path, a slug of three or more words, or an id of four or more digits (in the path or the
  query string).
- **topic words in the URL** (a ranking, optionally a filter): the topic's keywords and the
  counted people's names as slugs ("harvey-weinstein", "metoo"). A URL holding some is fetched
  first; one holding none is still fetched, because many articles' slugs name neither (a
  survivor's account, a follow-up), unless ARCHIVE_URL_KEYWORDS_REQUIRED is set.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from pipelines.core.topic import Topic, article_pattern, slug

ASSET_EXTENSIONS = frozenset(
    "css js mjs json xml rss atom txt csv png jpg jpeg gif svg webp ico bmp tif tiff pdf mp3 mp4 m4a "
    "webm mov avi woff woff2 ttf otf eot zip gz tgz rar swf".split()
)
# Path segments that name a listing or a service, never an article.
NOT_ARTICLE_SEGMENTS = frozenset(
    "tag tags topic topics author authors category categories section sections search feed feeds rss "
    "wp-json wp-content wp-includes wp-admin static assets cdn-cgi login account subscribe newsletters "
    "comments print share".split()
)
_DATE_PATH = re.compile(r"/(19|20)\d\d/[01]?\d(/[0-3]?\d)?(/|$)|(?<!\d)(19|20)\d\d[01]\d[0-3]\d(?!\d)")
_PAGINATION = re.compile(r"/page/\d+/?$")
_WORD_SEPARATORS = re.compile(r"[-_+.\s]+")


class ArticleUrls:
    """The two tests above, for one topic."""

    def __init__(self, topic: Topic, keywords_required: bool = False):
        self.topic = topic
        self.keywords_required = keywords_required
        self.patterns = {o.id: [article_pattern(p) for p in o.article_patterns] for o in topic.outlets}
        self.terms = url_terms(topic)

    def refusal(self, url: str) -> str | None:
        """Why the URL is not fetched, or None when it is."""
        outlet = self.topic.outlet_for(url)
        patterns = self.patterns.get(outlet.id) if outlet else None
        if patterns:
            if not any(p.search(url) for p in patterns):
                return "not an article URL (matches none of the outlet's article_patterns)"
        elif reason := heuristic_refusal(url):
            return reason
        if self.keywords_required and not self.rank(url):
            return "no topic keyword in the URL (ARCHIVE_URL_KEYWORDS_REQUIRED)"
        return None

    def rank(self, url: str) -> int:
        """How many of the topic's terms the URL holds: the fetch priority."""
        words = _url_words(url)
        return sum(1 for term in self.terms if term.search(words))


def heuristic_refusal(url: str) -> str | None:
    """Why the URL does not look like an article's, or None when it does."""
    path = urlsplit(url).path.lower()
    segments = [s for s in path.split("/") if s]
    if not segments:
        return "not an article URL (a front page)"
    extension = segments[-1].rsplit(".", 1)[-1] if "." in segments[-1] else ""
    if extension in ASSET_EXTENSIONS:
        return f"not an article URL (.{extension})"
    if section := next((s for s in segments if s in NOT_ARTICLE_SEGMENTS), None):
        return f"not an article URL (a /{section}/ page)"
    if _PAGINATION.search(path):
        return "not an article URL (a listing page)"
    query_values = re.split(r"[&=]", urlsplit(url).query)  # news_info.php?SerialNo=83141
    if _DATE_PATH.search(path) or any(_is_slug(s) or _is_id(s) for s in segments) or any(map(_is_id, query_values)):
        return None
    return "not an article URL (no date, slug or id in the path)"


def _is_slug(segment: str) -> bool:
    words = [w for w in _WORD_SEPARATORS.split(segment.rsplit(".", 1)[0]) if w]
    return len(words) >= 3


def _is_id(segment: str) -> bool:
    return sum(c.isdigit() for c in segment) >= 4


def url_terms(topic: Topic) -> list[re.Pattern]:
    """The topic's keywords and counted people (names and aliases) as URL slugs."""
    counted = [p for p in topic.people if p.role in topic.relevance.counting_roles]
    names = [*topic.keywords, *(n for p in counted for n in (p.name, *p.aliases))]
    slugs = sorted({slug(name) for name in names} - {""})
    return [re.compile(rf"(?<![a-z0-9]){re.escape(s)}s?(?![a-z0-9])") for s in slugs]


def _url_words(url: str) -> str:
    """The URL's path and query, lower case, words joined by hyphens like a slug."""
    parts = urlsplit(unquote(url).lower())
    return _WORD_SEPARATORS.sub("-", f"{parts.path} {parts.query}")
