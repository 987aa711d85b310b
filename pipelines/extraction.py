"""HTML in, article record out: the one extraction code path (crawl, import, `clippings extract`)."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from importlib.metadata import version
from urllib.parse import urljoin

import lxml.etree
from py3langid.langid import MODEL_FILE, LanguageIdentifier
import trafilatura
from lxml import html as lxml_html

from pipelines.dating import PublicationDate, date_publication

EXTRACTOR = f"trafilatura {version('trafilatura')}"
MIN_ARTICLE_WORDS = 80
# Page types that announce a listing rather than a story (og:type, JSON-LD @type).
LISTING_TYPES = {"website", "collectionpage", "webpage", "itemlist", "searchresultspage", "profilepage"}
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
        return len(self.text.split())

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
    tree = parse_html(html)
    document = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    if document is None or not (document.text or "").strip():
        raise NotAnArticle("no article text found")
    page_type = _page_type(tree)
    title = clean_title(_headline(tree) or document.title, document.sitename)
    text = drop_leading_title(document.text.strip(), title)
    words = len(text.split())
    if page_type in LISTING_TYPES and words < 4 * min_words:
        raise NotAnArticle(f"listing page (type {page_type}), not an article")
    if words < min_words:
        raise NotAnArticle(f"too little text for an article ({words} words, minimum {min_words})")
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


def parse_html(html: str | bytes) -> lxml_html.HtmlElement:
    """Parse leniently; bytes are decoded by their declared or sniffed charset."""
    if isinstance(html, bytes):
        html = trafilatura.utils.decode_file(html)
    if not html.strip():
        raise NotAnArticle("empty page")
    try:
        tree = lxml_html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as error:
        raise NotAnArticle(f"unparseable HTML ({error})") from error
    return tree


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


def drop_leading_title(text: str, title: str | None) -> str:
    """The headline is metadata, not body: drop it when the text opens with it."""
    first, _, rest = text.partition("\n")
    if title and rest and normalised_text(first).casefold() == normalised_text(title).casefold():
        return rest.strip()
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


def normalised_text(text: str) -> str:
    """Text as compared for identity: whitespace folded, case kept."""
    return " ".join(text.split())
