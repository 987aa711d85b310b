"""HTML in, article record out: the one extraction code path (crawl, import, `clippings extract`)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import unescape as html_unescape
from importlib.metadata import version
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.etree
import trafilatura
from htmldate import find_date
from htmldate.extractors import get_external_parser, month_words
from lxml import html as lxml_html
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from w3lib.encoding import html_to_unicode

from pipelines.core.dating import RULES, DatingRules, PublicationDate, date_publication, json_ld_articles, page_candidates
from pipelines.core.metadata import page_metadata

EXTRACTOR = f"trafilatura {version('trafilatura')}; clippings {version('clippings')}"
# trafilatura's fallbacks (readability, jusText) double its cost; below this many words its
# main pass has often caught a fragment, and only there are they worth it.
FALLBACK_BELOW_WORDS = 100
# Scripts written without spaces between words: about two characters make a word.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
BYLINE_PREFIX = re.compile(r"^\s*(by|par|von|por|di|door|af|av|przez)\s+", re.IGNORECASE)
# "Published", "Updated" and their kin opening a line, in the languages of the topic files.
DATELINE = re.compile(
    r"^\s*(published|updated|posted|last updated|publié|mis à jour|veröffentlicht|aktualisiert|"
    r"publicado|actualizado|pubblicato|aggiornato|gepubliceerd|bijgewerkt)\b",
    re.IGNORECASE,
)
AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\bet\b|&)\s*", re.IGNORECASE)
# Calls to action and notices that trail an article body: no site's markup, only what they say.
TRAILING_CHROME = re.compile(
    r"\bsubscribe\b|\bnewsletters?\b|\bsign up for (?:our|the)\b|\bfollow (?:him|her|them|us|me) on\b"
    r"|\bclick here\b|^(?:read|see) more\b|^related\b|^more from\b|\btell us what you think"
    r"|\bhave a tip\b|\ball rights reserved\b|^copyright\b|©|^filed under\b"
    # a comment counter ("12 comments"); a CMS shortcode left unrendered ("[button ...]...[/button]")
    r"|^\d*\s*comments?$|\[/[a-z_]+\]",
    re.IGNORECASE,
)
PAYWALL_PROMPT = re.compile(
    r"(subscribe|subscription|sign in|log in|register)\b.{0,60}\b(to (continue|keep) reading|to read (the|this) (full|rest|article))"
    r"|\b(continue|keep) reading\b.{0,40}\bsubscri|\balready a subscriber\b|\bsubscribers only\b|\bfor subscribers\b"
    r"|réservé aux abonnés|\babonnez-vous\b|nur für abonnenten|solo para suscriptores",
    re.IGNORECASE,
)
INLINE_PROMOTION = re.compile(
    r"^\s*(?:read more|see more|related|watch|also read)\s*:|\[(?:video|pictures|photos|gallery|poll)\]\W*$", re.IGNORECASE
)
# What a sentence (or a quotation, or a lead-in to a list) ends with.
SENTENCE_ENDINGS = frozenset('.!?…:;"”»)]。！？')


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
    text_flags: list[str] = field(default_factory=list)  # see text_flags()

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
    min_words: int = 0,
    captured_at: str | None = None,
    boilerplate: frozenset[str] = frozenset(),
    time_zone: ZoneInfo | None = None,
    thin_words: int = 0,
) -> Article:
    """Extract text and metadata; raises NotAnArticle with the reason when there is no article.

    `min_words`: fewer words are not an article; `thin_words`: fewer are flagged `thin` (the
    MIN_ARTICLE_WORDS and THIN_WORDS settings, which the commands pass; 0: neither).

    `captured_at` (a web archive's capture time, else the fetch time) bounds the date from above.
    `time_zone`: the outlet's (the topic file's), to read its time stamps on its own clock.
    `boilerplate` holds the line_fingerprint of lines the outlet repeats across its articles
    (the archive knows them): they are dropped from the text.
    """
    html = decode_html(html)
    tree = parse_html(html)
    json_ld = list(json_ld_articles(tree))  # read once for the metadata, the body, the flags and the date
    metadata = page_metadata(tree, url, json_ld=json_ld)
    stated = stated_body(tree, json_ld)
    body = extract_body(tree, url)
    if not body:
        raise NotAnArticle("no article text found")
    page_type = _page_type(tree)
    title, authors = metadata.title, metadata.authors
    text = drop_known_lines(drop_leading_title(body, title), boilerplate)
    text = drop_trailing_chrome(drop_inline_promotions(drop_leading_link_list(text)))
    words = count_words(text)
    if words < min_words:
        raise NotAnArticle(f"too little text for an article ({words} words, minimum {min_words})")
    if listing := listing_reason(tree, text):
        raise NotAnArticle(listing)
    return Article(
        url=url,
        canonical_hint=_canonical_link(tree, url),
        title=title,
        authors=authors,
        published=date_page(tree, url, listing_dates, captured_at, json_ld, time_zone),
        language=detect_language(text, tree),
        sitename=metadata.sitename,
        description=metadata.description,
        text=text,
        page_type=page_type,
        text_flags=text_flags(text, tree, thin_words, stated, json_ld),
    )


def stated_body(tree: lxml_html.HtmlElement, json_ld: list[dict] | None = None) -> str:
    """The body a page states in JSON-LD articleBody (some sites put HTML in it), or "".
    `json_ld`: the page's json_ld_articles, when the caller has read them already."""
    for node in json_ld_articles(tree) if json_ld is None else json_ld:
        body = node.get("articleBody")
        if isinstance(body, str) and body.strip():
            if "<" in body:
                body = "\n".join(lxml_html.fromstring(f"<div>{body}</div>").xpath("//text()"))
            return "\n".join(line.strip() for line in html_unescape(body).splitlines() if line.strip())
    return ""


def text_flags(
    text: str, tree: lxml_html.HtmlElement, thin_words: int, stated: str = "", json_ld: list[dict] | None = None
) -> list[str]:
    """What makes the stored text less than a full article, so it is flagged rather than
    passed off as one (measured against whole articles in BENCHMARKS.md):
    - `thin`: under `thin_words`;
    - `truncated`: the page holds or promises more than the text: its JSON-LD body is twice as
      long, or the text is a teaser, short (under `thin_words`) and ending in an ellipsis. A long
      text ending in one is an article whose last line trails off ("Ich steig aus…") or keeps a
      "Loading..." line: flagging those hid complete articles;
    - `paywalled`: a subscription prompt ends the text, or the page says it is not free
      (schema.org isAccessibleForFree false) and the text is thin or truncated: a metered page
      saved past its paywall holds the whole article."""
    words = count_words(text)
    short = words < thin_words
    truncated = (short and is_cut_off(text)) or count_words(stated) >= 2 * words
    articles = json_ld_articles(tree) if json_ld is None else json_ld
    not_free = any(_says_not_free(node.get("isAccessibleForFree")) for node in articles)
    prompted = PAYWALL_PROMPT.search("\n".join(text.splitlines()[-2:]))
    flags = ["thin"] if short else []
    if (not_free and (short or truncated)) or prompted:
        flags.append("paywalled")
    if truncated:
        flags.append("truncated")
    return flags


def is_cut_off(text: str) -> bool:
    """The text ends in an ellipsis ("…", "...", "[...]")."""
    return bool(re.search(r"(…|\.\.\.|\[\.\.\.\])\s*$", text))


def _says_not_free(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def extract_body(tree: lxml_html.HtmlElement, url: str) -> str:
    """The article body: trafilatura in precision mode, with what its recall mode finds where
    precision left prose out (see with_recall), and its fallback extractors (readability,
    jusText, which cost as much again) only where the text is still short.
    The page's tree is not changed: trafilatura works on a copy (see body_page)."""
    page = body_page(tree)
    text = _trafilatura_text(page, url, favor_precision=True, prune_xpath=CLEANED_XPATH)
    if misses_prose(page, text):
        text = with_recall(text, _trafilatura_text(page, url, favor_recall=True, prune_xpath=WITHOUT_PARAGRAPHS_XPATH), page)
    if count_words(text) < FALLBACK_BELOW_WORDS:
        fuller = _trafilatura_text(page, url, favor_precision=True, fast=False)
        text = fuller if count_words(fuller) > count_words(text) else text
    return text


# trafilatura's cleaning deletes these before it extracts anything: deleting them first from the copy
# it works on spares its XPath passes from walking them (a fifth of its time on some pages), and
# keeps a <noscript> copy of the text out of the prose misses_prose counts.
UNREAD_ELEMENTS = ("script", "style", "noscript", "svg", "template")


# More of what trafilatura's cleaning deletes, with all they hold, before its extraction reads the
# page (its MANUALLY_CLEANED, less the elements it treats apart: forms, figures, math, time).
# Its precision pass prunes them from its own copy first (its `prune_xpath`): the same text on every
# page of the body corpora, and less time, since its XPath passes before the cleaning walk them
# (no copy of ours is made for it: trafilatura copies the tree it is given). Its recall pass keeps
# those that may hold paragraphs (recall restores what the cleaning deleted when no paragraph is
# left; without them one article of wcxb-dev was lost), the fallback keeps them all (its
# readability reads the page before the cleaning), and misses_prose reads the page as it is.
CLEANED_BY_TRAFILATURA = (
    "aside", "audio", "button", "canvas", "embed", "footer", "head", "iframe", "input", "link",
    "map", "menu", "nav", "object", "option", "picture", "select", "textarea", "video",
)  # fmt: skip
CLEANED_XPATH = "|".join(f"//{tag}" for tag in CLEANED_BY_TRAFILATURA)
# What the recall pass loses before trafilatura reads the page: what its cleaning deletes and no
# paragraph can sit in (a <button> can: an accordion's sections).
WITHOUT_PARAGRAPHS = ("head", "link", "input", "option", "select", "textarea", "iframe")
WITHOUT_PARAGRAPHS_XPATH = "|".join(f"//{tag}" for tag in WITHOUT_PARAGRAPHS)


def body_page(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the page for trafilatura: comments, scripts and styles out, sentences kept whole."""
    page = copy.deepcopy(tree)
    lxml.etree.strip_elements(page, lxml.etree.Comment, lxml.etree.PI, *UNREAD_ELEMENTS, with_tail=False)
    return keep_sentences_whole(page)


def _trafilatura_text(
    page: lxml_html.HtmlElement, url: str, fast: bool = True, prune_xpath: str | None = None, **focus: bool
) -> str:
    """trafilatura's text of the page (it copies the tree it is given, so `page` stays as it is),
    with what `prune_xpath` finds deleted from its copy first."""
    document = trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        fast=fast,
        prune_xpath=prune_xpath,
        **focus,
    )
    return (document.text or "").strip() if document else ""


# Precision or recall, one rule. trafilatura's precision mode runs first; it drops whole paragraphs
# or list items on some layouts, and the sign is prose (paragraphs of PROSE_WORDS or more, ending a
# sentence) that the page holds and its text lacks. Where that missing prose exceeds both bounds
# below, recall mode runs on the same copy, and what it adds is taken where it reads as the
# article: the lines inside precision's span (fill_gaps), or recall's whole text where precision
# kept a stub (STUB_SHARE). The trigger fires on about a fifth of the pages: recall on every page
# would cost more than trafilatura's own default mode. Measured on every body corpus, with each
# part ablated (BENCHMARKS.md).
PROSE_WORDS = 12
MISSED_PROSE_WORDS = 100
MISSED_PROSE_SHARE = 0.3
MAX_PARAGRAPH_CHARACTERS = 5000
# Precision kept so little of the page that its text is a stub: recall's text replaces it.
STUB_SHARE = 0.2


def misses_prose(page: lxml_html.HtmlElement, text: str) -> bool:
    """Whether the page's paragraphs hold more prose than `text` kept (see MISSED_PROSE_WORDS)."""
    kept = normalised_text(text)
    bound = max(MISSED_PROSE_WORDS, MISSED_PROSE_SHARE * count_words(text))
    missed = 0
    for block in page.iter("p", "li", "td", "dd", "blockquote"):
        paragraph = block.text_content()
        # too short to hold PROSE_WORDS words (even in CJK), a container of paragraphs counted on
        # their own, or no sentence: the cheap tests first, most blocks are no prose
        if not (2 * PROSE_WORDS <= len(paragraph) <= MAX_PARAGRAPH_CHARACTERS and ends_sentence(paragraph)):
            continue
        paragraph = normalised_text(paragraph)
        words = count_words(paragraph)
        if words >= PROSE_WORDS and paragraph not in kept:
            missed += words
            if missed > bound:
                return True
    return False


def ends_sentence(line: str) -> bool:
    """Whether the line's last character, spaces aside, ends a sentence (SENTENCE_ENDINGS)."""
    return line.rstrip()[-1:] in SENTENCE_ENDINGS


def with_recall(precise: str, recall: str, page: lxml_html.HtmlElement) -> str:
    """Precision's text with what recall found in its gaps (see fill_gaps); recall's text
    whole where precision's is a stub (under STUB_SHARE of the page's words) and recall's longer."""
    body = page.find("body")
    page_words = count_words((body if body is not None else page).text_content())
    if count_words(precise) < STUB_SHARE * page_words and count_words(recall) > count_words(precise):
        return recall
    return fill_gaps(precise, recall)


def fill_gaps(precise: str, recall: str) -> str:
    """`precise` with the lines `recall` holds between two of its lines (list items, table rows,
    paragraphs precision dropped inside the article). What recall adds before precision's first
    line or after its last (teasers, related stories) stays out; no line of `precise` is lost."""
    have = {_line_key(line) for line in precise.split("\n")}
    held = _shingles(precise)
    lines = [line for line in recall.split("\n") if line.strip()]
    shared = [index for index, line in enumerate(lines) if _line_key(line) in have]
    if not shared:
        return precise
    after: dict[str, list[str]] = {}  # lines to insert, by the precise line they follow
    anchor = ""
    for line in lines[shared[0] : shared[-1] + 1]:
        key = _line_key(line)
        if key in have:
            anchor = key
        elif not _mostly_in(line, held):
            after.setdefault(anchor, []).append(line)
    merged = []
    for line in precise.split("\n"):
        merged.append(line)
        merged.extend(after.pop(_line_key(line), []))
    return "\n".join(merged)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text)
    return {tuple(words[index : index + 4]) for index in range(len(words) - 3)}


def _mostly_in(line: str, held: set[tuple[str, ...]]) -> bool:
    """Whether most of the line's runs of four words are in `held`: the same paragraph, written
    a little differently by the other mode (a link's text kept or not)."""
    runs = _shingles(line)
    return bool(runs) and len(runs & held) >= len(runs) / 2


def _line_key(line: str) -> str:
    """A line as compared between extractions: without the list dash and table bars trafilatura
    writes, whitespace folded."""
    return normalised_text(line.replace("|", " ")).removeprefix("- ")


CARD = ".//img and count(.//a) >= 2"


def keep_sentences_whole(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """What a paragraph's sentences hold stays, what pops up over them goes, before trafilatura:
    a wrapper around a single link inside a paragraph is unwrapped (precision mode drops
    wrappers by class, taking words out of the sentence), and a card nested in a paragraph
    (an image and two or more links: a hover card of a person or topic) is removed."""
    for card in tree.xpath(f"//p//span[{CARD}][not(.//span[{CARD}])]"):  # the innermost: the name stays
        card.drop_tree()
    for wrapper in tree.xpath("//p//span[count(*) = 1 and a and not(normalize-space(text()))]"):
        wrapper.drop_tag()
    return tree


def date_page(
    tree: lxml_html.HtmlElement,
    url: str,
    listing_dates: dict[str, str] | None = None,
    captured_at: str | None = None,
    json_ld: list[dict] | None = None,
    time_zone: ZoneInfo | None = None,
    rules: DatingRules = RULES,
) -> PublicationDate:
    """The publication date with its provenance (pipelines/core/dating.py); htmldate's reading of
    the page, in its extensive mode and preferring an original to an updated date, is one signal.
    `time_zone`: the outlet's, from the topic file, when it names one.

    htmldate ranks below the page's own signals and the URL, and nothing it says changes a date
    they give (it has no vote, and it is no witness for a UTC stamp's day): it is asked only when
    they give none, which spares its extensive search (a seventh of the extraction's time) on
    most pages. Its reading is then among the candidates only where it was asked."""
    found = page_candidates(tree, json_ld, rules)  # read once, for both choices
    stated = date_publication(tree, url, None, listing_dates, captured_at, json_ld, time_zone, rules, found)
    if rules.htmldate and (stated.value is None or stated.source in (listing_dates or {})):
        last_day = (captured_at or dt.date.today().isoformat())[:10]
        htmldate_value = find_date(tree, url=url, original_date=True, extensive_search=True, max_date=last_day)
        return date_publication(tree, url, htmldate_value, listing_dates, captured_at, json_ld, time_zone, rules, found)
    return stated


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


# An XHTML page may open with one; lxml refuses text that declares an encoding (the bytes were
# decoded already, by decode_html, which reads the declaration's encoding).
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# lxml.html's own parser asks a Python function for the class of every element the code touches
# (to give forms and inputs theirs): the metadata readers, the dating and trafilatura touch
# millions, a twentieth of the extraction's time. Here every element is an HtmlElement, looked up
# in C; nothing in the extraction uses the form classes. Copies of the tree keep the parser.
HTML_PARSER = lxml_html.HTMLParser()
HTML_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)


def parse_html(html: str) -> lxml_html.HtmlElement:
    """Parse leniently, for the metadata readers and the body alike."""
    if not html.strip():
        raise NotAnArticle("empty page")
    try:
        tree = lxml_html.fromstring(XML_DECLARATION.sub("", html, count=1), parser=HTML_PARSER)
    except (lxml.etree.ParserError, ValueError) as error:
        raise NotAnArticle(f"unparseable HTML ({error})") from error
    return tree


def listing_reason(tree: lxml_html.HtmlElement, text: str) -> str | None:
    """Why the page is a front page or a section listing rather than an article, if it is: its
    text is mostly teasers, each in a card under a heading that links to another page of the
    site (see teaser_cards). Judged on the page's content only: a URL's shape says nothing
    (a WordPress article is `/?p=123`, a front page can be `/news/latest-stories`)."""
    cards = teaser_cards(tree, text)
    teaser_words = sum(count_words(teaser) for teaser in cards)
    if len(cards) >= MIN_TEASER_CARDS and teaser_words >= LISTING_TEASER_SHARE * count_words(text):
        return f"listing page: {len(cards)} linked headlines with teasers make up the text"
    return None


# A card: a heading that is a link, with its teaser beside it in a small block. An article's own
# headline may be a link too (to itself), and a listicle's items link to other sites: a listing
# has at least two cards linking within one site, and their teasers make up half its text or more.
MAX_CARD_WORDS = 80
MIN_TEASER_CARDS = 2
LISTING_TEASER_SHARE = 0.5
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def linked_headings(tree: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The document's headings that hold a link or sit in one, in document order (what the XPath
    //*[self::h1 or ...][.//a[@href] or ancestor::a[@href]] finds, a quarter of its time:
    libxml2 tests every element of the page against the six names)."""
    return [
        heading
        for heading in tree.getroottree().iter(HEADINGS)
        if heading.find(".//a[@href]") is not None or any(a.get("href") is not None for a in heading.iterancestors("a"))
    ]


def teaser_cards(tree: lxml_html.HtmlElement, text: str) -> list[str]:
    """The teasers of `text` that sit in cards whose headline links within the site (a relative
    link, or an absolute one to the host most of the cards link to)."""
    headings = linked_headings(tree)
    if len(headings) < MIN_TEASER_CARDS:
        return []
    kept = normalised_text(text)
    cards = []  # (host linked to, teaser)
    for heading in headings:
        card = heading.getparent()
        if card is None or (host := _linked_host(heading)) is None or not _is_small(card):
            continue
        teasers = [
            teaser
            for block in card.iterchildren(lxml.etree.Element)
            if block is not heading and count_words(teaser := normalised_text(block.text_content())) >= 5 and teaser in kept
        ]
        if teasers:
            cards.append((host, " ".join(teasers)))
    hosts = [host for host, _ in cards if host]
    site = max(set(hosts), key=hosts.count) if hosts else ""
    return [teaser for host, teaser in cards if host in ("", site)]


def _is_small(card: lxml_html.HtmlElement) -> bool:
    text = card.text_content()
    return len(text) < 20 * MAX_CARD_WORDS and count_words(text) <= MAX_CARD_WORDS


def _linked_host(heading: lxml_html.HtmlElement) -> str | None:
    """The host a heading links to ("" for a relative link), when the heading's text is the link's;
    None when it is no link (or one within the page)."""
    links = [link for link in heading.iter("a") if not (link.get("href") or "#").startswith("#")]
    if not links and (around := next(heading.iterancestors("a"), None)) is not None:
        links = [around] if not (around.get("href") or "#").startswith("#") else []
    linked_words = sum(count_words(link.text_content()) for link in links)
    if not links or linked_words < 0.9 * count_words(heading.text_content()):
        return None
    try:
        return (urlsplit(links[0].get("href", "").strip()).hostname or "").removeprefix("www.")
    except ValueError:  # a malformed address ("http://[::1"): no host to compare
        return ""


def _page_type(tree: lxml_html.HtmlElement) -> str | None:
    og_type = (_first_attribute(tree, "meta", ("property", "og:type"), "content") or "").strip().lower()
    return og_type or None


def _canonical_link(tree: lxml_html.HtmlElement, url: str) -> str | None:
    for tag, marked, attribute in (("link", ("rel", "canonical"), "href"), ("meta", ("property", "og:url"), "content")):
        value = _first_attribute(tree, tag, marked, attribute)
        if value and value.strip():
            return urljoin(url, value.strip())
    return None


def _first_attribute(tree: lxml_html.HtmlElement, tag: str, marked: tuple[str, str], attribute: str) -> str | None:
    """The `attribute` of the document's first <tag> marked so (`marked`: an attribute and its
    value) that has one: what the XPath //tag[@name="value"]/@attribute finds first. The walk
    stops there (such tags are in the head), where XPath would walk the whole tree."""
    name, value = marked
    for element in tree.getroottree().iter(tag):
        if element.get(name) == value and (found := element.get(attribute)) is not None:
            return found
    return None


def drop_leading_title(text: str, title: str | None, within: int = 3) -> str:
    """The headline is metadata, not body. When it stands among the first lines, it and
    what precedes it (kicker, section label, breadcrumbs) are page chrome: drop them."""
    if not title:
        return text
    lines = text.split("\n", within)  # the first lines, and the rest in one
    wanted = normalised_text(title).casefold()
    for index, line in enumerate(lines[:within]):
        if normalised_text(line).casefold() == wanted and index + 1 < len(lines):
            return "\n".join(lines[index + 1 :]).strip()
    return text


def is_dateline(line: str) -> bool:
    """ "Published ..." or its kin, with a date or time in it."""
    return bool(DATELINE.match(line)) and any(c.isdigit() for c in line)


def drop_trailing_chrome(text: str, max_share: float = 1 / 3) -> str:
    """Drop what trails the body: calls to action, copyright lines, and runs of three or more
    headline-like lines (links to other stories). Never more than `max_share` of the words:
    past that the "chrome" is more likely the article's own list."""
    lines = text.split("\n")
    end = len(lines)
    while end > 1:
        line = lines[end - 1].strip()
        if not line or _is_chrome_line(line):
            end -= 1
            continue
        start = end
        while start > 1 and _is_headline_like(lines[start - 1].strip()):
            start -= 1
        if end - start < 3:
            break
        end = start
    if end == len(lines):  # nothing trails the body
        return text.rstrip()
    kept = "\n".join(lines[:end]).rstrip()
    return kept if count_words(kept) >= (1 - max_share) * count_words(text) else text


def drop_known_lines(text: str, fingerprints: frozenset[str]) -> str:
    """The text without the lines whose fingerprint is given (an outlet's repeated boilerplate)."""
    if not fingerprints:
        return text
    return "\n".join(line for line in text.split("\n") if line_fingerprint(line) not in fingerprints)


# Boilerplate is short (a newsletter prompt, "Follow us", a copyright line); a long paragraph an
# outlet repeats across follow-up stories is background the story needs, and stays.
BOILERPLATE_MAX_WORDS = 25


def may_be_boilerplate(line: str) -> bool:
    return 0 < count_words(line) <= BOILERPLATE_MAX_WORDS


def line_fingerprint(line: str) -> str:
    """A line as compared across articles: case and spacing folded, hashed."""
    return hashlib.sha256(" ".join(line.casefold().split()).encode()).hexdigest()[:32]


def line_fingerprints(text: str) -> frozenset[str]:
    """The fingerprints of a text's lines that may be boilerplate: what an archived article
    counts towards its outlet's repeated lines."""
    return frozenset(line_fingerprint(line) for line in text.split("\n") if may_be_boilerplate(line))


def repeated_lines(counts: Iterable[tuple[str, int]], min_articles: int, own_text: str | None = None) -> frozenset[str]:
    """The outlet's boilerplate: the fingerprints its (fingerprint, articles carrying it) counts
    show in `min_articles` articles or more.

    `own_text`: an archived article's text, for extracting it again. Its own lines do not count
    towards its boilerplate, so that an article that helped make a line boilerplate (one of the
    first `min_articles` to carry it) keeps the line, as when it was archived."""
    own = line_fingerprints(own_text) if own_text else frozenset()
    return frozenset(fingerprint for fingerprint, articles in counts if articles - (fingerprint in own) >= min_articles)


def drop_leading_link_list(text: str, max_share: float = 1 / 3) -> str:
    """Drop a run of three or more headline-like lines opening the text: links to other
    stories above the body. Within the same `max_share` bound as the trailing chrome."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) - 1 and _is_headline_like(lines[start].strip()):
        start += 1
    if start < 3:
        return text
    kept = "\n".join(lines[start:]).lstrip()
    return kept if count_words(kept) >= (1 - max_share) * count_words(text) else text


def drop_inline_promotions(text: str) -> str:
    """Drop short lines inside the body that point elsewhere: "READ MORE: ...", "[VIDEO]"."""
    return "\n".join(line for line in text.split("\n") if not (len(line.split()) < 25 and INLINE_PROMOTION.search(line)))


def _is_chrome_line(line: str) -> bool:
    """A call to action or a notice; or an "Updated at 1:23 p.m." note, which dates the page
    rather than telling the story."""
    words = len(line.split())
    return (words < 40 and TRAILING_CHROME.search(line) is not None) or (words <= 12 and is_dateline(line))


def _is_headline_like(line: str) -> bool:
    return 0 < len(line.split()) <= 16 and not ends_sentence(line)


# The text's opening is enough to tell its language, and py3langid's time grows with the sample:
# 500 characters give the same answer as 1,000 on every benchmark page, at a third of the time.
LANGUAGE_SAMPLE = 500


def detect_language(text: str, tree: lxml_html.HtmlElement) -> str | None:
    """ISO 639-1 code from the text itself; the page's lang attribute only breaks a weak guess."""
    code, confidence = _language_identifier().classify(text[:LANGUAGE_SAMPLE])
    declared = (tree.get("lang") or "").split("-")[0].lower() or None
    if declared and confidence < 0.9:
        return declared
    return code


@functools.cache
def _language_identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


# No dateparser locale reads this as a date, so each of them is loaded and compiled in trying.
NOT_A_DATE = "12 xyzzy 2017"


def load_models() -> None:
    """Load what extraction otherwise loads on first use, in every process: py3langid's model
    (LZMA, about 0.3 s) and every dateparser locale htmldate's text search may try, with its
    compiled expressions (about 1 s). Results do not change: the same loaded once, earlier."""
    _language_identifier()
    month_words()
    get_external_parser().get_date_data(NOT_A_DATE)


def count_words(text: str) -> int:
    """Words separated by spaces, plus CJK text at two characters a word."""
    if text.isascii() or not CJK.search(text):  # most text: no list of its characters to make
        return len(text.split())
    cjk = len(CJK.findall(text))
    return len(CJK.sub(" ", text).split()) + (cjk + 1) // 2


def normalised_text(text: str) -> str:
    """Text as compared for identity: whitespace folded, case kept."""
    return " ".join(text.split())
