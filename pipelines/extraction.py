"""HTML in, article record out: the one extraction code path (crawl, import, `clippings extract`)."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from importlib.metadata import version
from urllib.parse import urljoin, urlsplit

import lxml.etree
from py3langid.langid import MODEL_FILE, LanguageIdentifier
import trafilatura
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

from pipelines.dating import PublicationDate, date_from_url, date_publication

EXTRACTOR = f"trafilatura {version('trafilatura')}"
MIN_ARTICLE_WORDS = 40
# Scripts written without spaces between words: about two characters make a word.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TITLE_SEPARATOR = r"\s+[|\-–—·:]\s+"
BYLINE_PREFIX = re.compile(r"^\s*(by|par|von|por|di|door|af|av|przez)\s+", re.IGNORECASE)
AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\bet\b|&)\s*", re.IGNORECASE)


class NotAnArticle(Exception):
    """The page holds no article: the message says why."""


@dataclass
class Article:
    url: str  # the URL it was fetched from
    canonical_hint: str | None  # rel=canonical / og:url as the page declares it
    title: str | None
    authors: list[str]
    published: PublicationDate
    language: str | None
    sitename: str | None
    description: str | None
    text: str
    extractor: str = EXTRACTOR
    page_type: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def word_count(self) -> int:
        return count_words(self.text)

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(normalised_text(self.text).encode()).hexdigest()


def extract_article(
    html: str | bytes,
    url: str,
    listing_dates: dict[str, str] | None = None,
    min_words: int = MIN_ARTICLE_WORDS,
) -> Article:
    """Extract text and metadata; raises NotAnArticle with the reason when there is no article."""
    html = decode_html(html)
    tree = parse_html(html)
    # trafilatura parses on its own: its loader differs from lxml.html's, and it
    # changes the tree it works on, which our date and title readers also need.
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    if document is None or not (document.text or "").strip():
        raise NotAnArticle("no article text found")
    page_type = _page_type(tree)
    title = clean_title(_headline(tree) or document.title, document.sitename)
    text = drop_leading_title(document.text.strip(), title)
    words = count_words(text)
    if words < min_words:
        raise NotAnArticle(f"too little text for an article ({words} words, minimum {min_words})")
    if listing := listing_reason(tree, url):
        raise NotAnArticle(listing)
    return Article(
        url=url,
        canonical_hint=_canonical_link(tree, url),
        title=title,
        authors=split_authors(document.author),
        published=date_publication(tree, url, document.date, listing_dates),
        language=detect_language(text, tree),
        sitename=document.sitename,
        description=document.description,
        text=text,
        page_type=page_type,
    )


def decode_html(html: str | bytes, content_type: str | None = None) -> str:
    """Bytes as text. Valid UTF-8 is read as UTF-8 whatever the page declares: a wrong
    declaration is common, and windows-1252 or Shift_JIS text is almost never valid UTF-8.
    Otherwise the HTTP charset, a byte-order mark, the meta charset, and windows-1252 when
    nothing is declared, as browsers do."""
    if isinstance(html, str):
        return html
    try:
        return html.decode("utf-8-sig")
    except UnicodeDecodeError:
        return html_to_unicode(content_type, html, default_encoding="cp1252")[1]


def parse_html(html: str) -> lxml_html.HtmlElement:
    """Parse leniently, for the metadata readers."""
    if not html.strip():
        raise NotAnArticle("empty page")
    try:
        tree = lxml_html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as error:
        raise NotAnArticle(f"unparseable HTML ({error})") from error
    return tree


def listing_reason(tree: lxml_html.HtmlElement, url: str) -> str | None:
    """Why the page is a front page or a section listing rather than an article, if it is.

    The signals newspaper-style extractors use: the site's root is never an article; a
    page that neither has an article's URL nor an article's metadata is a listing. (og:type
    "website" is no signal: real article pages carry it too.)
    """
    path = urlsplit(url).path
    if path in ("", "/") or re.fullmatch(r"/(index|default|home)\.\w+", path):
        return "site front page, not an article"
    if not looks_like_article_url(url) and not has_article_metadata(tree):
        return "listing page: neither an article URL nor article metadata"
    return None


def looks_like_article_url(url: str) -> bool:
    """A date, a slug of several words, or a long numeric id in the path."""
    path = urlsplit(url).path
    segments = [s for s in path.split("/") if s]
    return bool(
        date_from_url(url)
        or any(len(re.findall(r"[-_]", s)) >= 2 for s in segments)
        or re.search(r"\d{5,}", path)
    )


def has_article_metadata(tree: lxml_html.HtmlElement) -> bool:
    """og:type article, an Article-like JSON-LD object, or article publication markup."""
    checks = (
        '//meta[@property="og:type"][contains(translate(@content, "ARTICLE", "article"), "article")]',
        '//meta[@property="article:published_time" or @name="article:published_time"]',
        '//*[@itemprop="datePublished" or @itemprop="articleBody"]',
        '//*[@itemtype][contains(@itemtype, "Article") or contains(@itemtype, "BlogPosting")]',
    )
    if any(tree.xpath(xpath) for xpath in checks):
        return True
    return any(re.search(r'"@type"\s*:\s*\[?\s*"[^"]*(Article|BlogPosting)"', script) for script in tree.xpath('//script[@type="application/ld+json"]/text()'))


def _page_type(tree: lxml_html.HtmlElement) -> str | None:
    og_type = tree.xpath('string(//meta[@property="og:type"]/@content)').strip().lower()
    return og_type or None


def _headline(tree: lxml_html.HtmlElement) -> str | None:
    """The headline as the page states it in metadata, which rarely carries a site suffix."""
    for xpath in ('//meta[@property="og:title"]/@content', '//meta[@name="twitter:title"]/@content'):
        values = tree.xpath(xpath)
        if values and values[0].strip():
            return values[0].strip()
    return None


def _canonical_link(tree: lxml_html.HtmlElement, url: str) -> str | None:
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        values = tree.xpath(xpath)
        if values and values[0].strip():
            return urljoin(url, values[0].strip())
    return None


def clean_title(title: str | None, sitename: str | None) -> str | None:
    """Drop a leading or trailing site name ("Headline | The Gazette" -> "Headline")."""
    if not title:
        return None
    title = " ".join(title.split())
    if sitename:
        site = re.escape(" ".join(sitename.split()))
        title = re.sub(rf"^{site}{TITLE_SEPARATOR}|{TITLE_SEPARATOR}{site}$", "", title, flags=re.I)
    return title


def drop_leading_title(text: str, title: str | None, within: int = 3) -> str:
    """The headline is metadata, not body. When it stands among the first lines, it and
    what precedes it (kicker, section label, breadcrumbs) are page chrome: drop them."""
    if not title:
        return text
    lines = text.split("\n")
    wanted = normalised_text(title).casefold()
    for index, line in enumerate(lines[:within]):
        if normalised_text(line).casefold() == wanted and index + 1 < len(lines):
            return "\n".join(lines[index + 1 :]).strip()
    return text


def split_authors(author: str | None) -> list[str]:
    """Names from a byline string: "By Jane Doe and John Roe" -> ["Jane Doe", "John Roe"]."""
    if not author:
        return []
    names = []
    for part in AUTHOR_SPLIT.split(BYLINE_PREFIX.sub("", author)):
        name = BYLINE_PREFIX.sub("", part).strip(" .")
        if name and name not in names:
            names.append(name)
    return names


def detect_language(text: str, tree: lxml_html.HtmlElement) -> str | None:
    """ISO 639-1 code from the text itself; the page's lang attribute only breaks a weak guess."""
    code, confidence = _language_identifier().classify(text[:5000])
    declared = (tree.get("lang") or "").split("-")[0].lower() or None
    if declared and confidence < 0.9:
        return declared
    return code


@functools.cache
def _language_identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def count_words(text: str) -> int:
    """Words separated by spaces, plus CJK text at two characters a word."""
    cjk = len(CJK.findall(text))
    return len(CJK.sub(" ", text).split()) + (cjk + 1) // 2


def normalised_text(text: str) -> str:
    """Text as compared for identity: whitespace folded, case kept."""
    return " ".join(text.split())
