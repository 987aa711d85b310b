"""Titles and authors as the page presents them: the headline on the page when it agrees with what
the page declares, without the site's name; the people credited, not the outlet. The metadata
half of the extraction (pipelines/core/extraction.py calls page_metadata)."""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.etree
from lxml import html as lxml_html
from trafilatura import metadata as trafilatura_metadata
from trafilatura.json_metadata import normalize_authors
from trafilatura.settings import Document

from pipelines.core.dating import json_ld_articles

# Between a headline and the site's name: spaced dashes, colons and bars, and the full-width
# bar and colon of CJK titles, which go unspaced.
TITLE_SEPARATOR = re.compile(r"\s+[|\-–—·:•»«]\s+|\s*[｜|：]\s*|\s+::\s+")
# Words that may follow a site's name in a title segment that names the site, not the story.
SITE_WORDS = frozenset("the news online digital com daily magazine mag home".split())
HEADLINE_AGREES = 0.4  # share of words a page headline and a declared title have in common (Jaccard)
WORD = re.compile(r"\w+")
CJK_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")

BYLINE_PREFIX = re.compile(r"^\s*(?:by|par|von|por|di|door|af|av|przez|written by|posted by)(?:\s*:\s*|\s+)", re.IGNORECASE)
# Where a byline string divides into names; a comma too, unless the byline is "Surname, Given".
NAME_SEPARATOR = re.compile(r"\s*(?:;|\||·|•|\band\b|\bund\b|\bet\b|&|\n)\s*|\s+/\s+", re.IGNORECASE)
JOB_NOUN = re.compile(
    r"(writer|reporter|correspondent|editor|columnist|contributor|journalist|producer|photographer"
    r"|analyst|critic|chief|staff|intern|anchor|host|fellow|ceo|founder|president|director|assistant|manager"
    r"|adviser|advisor)s?",
    re.IGNORECASE,
)
JOB_QUALIFIERS = frozenset(
    "senior chief staff auto business political politics foreign national international sports science "
    "technology tech health legal white house washington contributing special deputy managing executive "
    "associate assistant investigative features opinion news video digital bureau entertainment".split()
)
# Words that make a credit an organisation's, not a person's: an outlet, a desk, an agency.
ORGANISATION_WORDS = frozenset(
    "news press post times media inc ltd llc gmbh corp company group staff team desk wire wires agency "
    "associated reuters afp dpa ap tnn pti ians network magazine weekly daily journal herald tribune gazette "
    "bureau editorial editors newsroom online digital tv radio channel service services submissions "
    "contributors redaktion rédaction redacción".split()
)
# What a byline element holds beside the names: prompts ("View author archive"), dates, links.
CLUTTER_WORDS = frozenset(
    "view more see get follow link copied updated update published posted read email e-mail contact share "
    "here bio profile stories articles archive rss feed twitter facebook instagram linkedin lesedauer min minutes "
    "minuten reading orcid click am pm a.m p.m gmt utc est edt pst pdt cet cest bst ist".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# A credit for the pictures, not the words: "Illustration by ...", "Photographs by ...".
PICTURE_CREDIT = re.compile(
    r"^(?:illustrations?|photos?|photographs?|photography|pictures?|images?|video|graphics?)\b", re.IGNORECASE
)
# The same credit after the writer's name, in one byline: "Jane Doe Illustration by John Roe".
PICTURE_CREDIT_AFTER = re.compile(
    r"\s+(?:illustrations?|photos?|photographs?|photography|pictures?|images?|video|graphics?)\s+by\b.*",
    re.IGNORECASE | re.DOTALL,
)
# An aside in brackets after a name: a place, a desk, a handle ("Jane Doe (Brussels, Europe desk)").
BRACKETED = re.compile(r"\s*[(（][^()（）]*[)）]")
NAME_PARTICLES = frozenset("de da di du del della der den van von la le bin al el dos das ter ten y".split())
# Lower-case words that end a name in a byline's sentence ("Jane Doe is a reporter", "Jane Doe in Paris").
FUNCTION_WORDS = frozenset("is was has at in on for from with of to a an the who covers writes".split())
GLUED_NAMES = re.compile(r"[a-z\u00e0-\u00ff](?=[A-Z][a-z])")
# Meta tags that name the people who wrote the page, most specific first. Values that are URLs
# (article:author is often a profile link) name nobody.
AUTHOR_META = (
    "article:author",
    "og:article:author",
    "parsely-author",
    "sailthru.author",
    "cxenseparse:author",
    "byl",
    "dc.creator",
    "dcterms.creator",
    "citation_author",
    "author",
)


@dataclass(frozen=True)
class MetadataRules:
    """The title and author rules, each of which can be turned off to measure what it is worth
    (benchmarks/ablation.py; BENCHMARKS.md has the table). All are on in the crawl."""

    page_headline: bool = True  # the headline on the page when it agrees with a declared title
    site_name_variants: bool = True  # "CBC News", "CNN Politics": a site's name with a section
    meta_authors: bool = True  # the people of author meta tags, before the page's bylines
    all_bylines: bool = True  # every byline beside the first one found (several authors)
    organisations_out: bool = True  # outlets, agencies and desks are not authors
    clutter_out: bool = True  # "View author archive", dates, prompts cut from a name
    surname_given: bool = True  # "Gillman, Steve" is one person, Steve Gillman
    job_titles_out: bool = True  # "Tom Krisher, AP Auto Writer" -> Tom Krisher
    headline_byline: bool = True  # the byline just below the headline before any other on the page


METADATA_RULES = MetadataRules()


@dataclass
class PageMetadata:
    title: str | None
    authors: list[str] = field(default_factory=list)
    sitename: str | None = None
    description: str | None = None


def page_metadata(
    tree: lxml_html.HtmlElement, url: str, rules: MetadataRules = METADATA_RULES, json_ld: list[dict] | None = None
) -> PageMetadata:
    """The page's title, authors, site name and description, as extract_article stores them.
    `json_ld`: the page's json_ld_articles, when the caller has read them already."""
    json_ld = list(json_ld_articles(tree)) if json_ld is None else json_ld
    document = read_metadata(tree, url)
    site = SiteNames.of(document.sitename, url, json_ld)
    headline = page_headline(tree, json_ld)
    title = page_title(document, headline, site, rules)
    # the bylines sit below the headline; when none agrees with a declared title (an SEO <title>
    # only), below the page's first
    below = headline if headline is not None else next(_page_headlines(tree), None)
    authors = page_authors(tree, site, rules, document.author, below)
    return PageMetadata(title, authors, document.sitename, document.description)


def read_metadata(tree: lxml_html.HtmlElement, url: str) -> Document:
    """Title, site name, description and the authors of meta tags and JSON-LD, by trafilatura's
    own readers (meta tags, then JSON-LD, then the page), without the categories and tags it
    also reads."""
    metadata = trafilatura_metadata.examine_meta(tree)
    try:
        metadata = trafilatura_metadata.extract_meta_json(tree, metadata)
    except (AttributeError, KeyError, TypeError, ValueError):
        pass  # malformed JSON-LD: trafilatura's reader has known bugs there; the page's meta tags stand
    metadata.title = metadata.title or trafilatura_metadata.extract_title(tree)
    metadata.sitename = (metadata.sitename or trafilatura_metadata.extract_sitename(tree) or "").lstrip("@") or None
    metadata.clean_and_trim()
    return metadata


# --- titles ------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteNames:
    """The ways a page may name its site: the declared name, the publisher's, the host."""

    names: frozenset[str]  # folded (see folded())

    @classmethod
    def of(cls, sitename: str | None, url: str | None = None, json_ld: list[dict] = ()) -> SiteNames:
        host = _hostname(url).removeprefix("www.")
        publishers = [node.get("publisher") for node in json_ld]
        declared = [sitename, *(p.get("name") for p in publishers if isinstance(p, dict))]
        names = {folded(n) for n in declared if isinstance(n, str)} | {folded(host), folded(_domain_name(host))}
        return cls(frozenset(names - {""}))

    def named_by(self, text: str, variants: bool = True) -> bool:
        """True when the text names the site: its name, the start of a longer declared name
        ("Inexhibit" of "Inexhibit magazine"), or, with `variants`, the site's name with capitalised
        words or site words beside it ("CBC News", "CNN Politics", "ガジェット通信 GetNews")."""
        letters = folded(text)
        if len(letters) < 2:
            return False
        if letters in self.names or (len(letters) >= 4 and any(n.startswith(letters) for n in self.names)):
            return True
        if not variants:
            return False
        words = text.split()
        for length in range(1, len(words)):
            name, rest = (words[:length], words[length:]), (words[-length:], words[:-length])
            for named, others in (name, rest):
                site = folded(" ".join(named))
                if len(site) >= 3 and site in self.names and all(_site_word(w) for w in others):
                    return True  # (a name of two letters, "al" of al.com, is too often a person's)
        return False


NO_SITE = SiteNames(frozenset())


def _hostname(url: str | None) -> str:
    """The URL's host name; "" when there is none or the URL is malformed ("http://[x")."""
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""


def _site_word(word: str) -> bool:
    """A word that may stand beside a site's name in a segment naming the site: a capitalised word
    (a section, "News"), a site word ("the", "online") or a word of a script without case."""
    return word[:1].isupper() or folded(word) in SITE_WORDS or not any(c.isascii() for c in word)


def _domain_name(host: str) -> str:
    """The name in a host: "cbc" of www.cbc.ca, "zdnet" of japan.zdnet.com, "asahi" of
    www.asahi.co.jp (a short second level before a country code is the country's: co, com, ne)."""
    labels = [label for label in host.split(".") if label]
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def folded(text: str) -> str:
    """Letters and digits only, accents and case folded: "Le Monde.fr" -> "lemondefr"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def page_title(
    document: Document, headline: lxml.etree._Element | None, site: SiteNames, rules: MetadataRules = METADATA_RULES
) -> str | None:
    """The headline on the page (page_headline) when there is one, else the declared title.
    Without the site's name."""
    title = _text(headline) if rules.page_headline and headline is not None else document.title
    return clean_title(title, site, rules)


def page_headline(tree: lxml_html.HtmlElement, json_ld: list[dict]) -> lxml.etree._Element | None:
    """The headline on the page (an h1, or an element marked as the headline) that agrees best with
    a title the page declares, taken in turn (JSON-LD headline, og:title, twitter:title, <title>):
    the social headline is often written apart. None when none agrees."""
    if headlines := list(_page_headlines(tree)):
        texts = [_text(headline) for headline in headlines]
        for title in _declared_titles(tree, json_ld):
            agreement, first = max((headline_agreement(text, title), -i) for i, text in enumerate(texts))
            if agreement >= HEADLINE_AGREES:
                return headlines[-first]
    return None


def _declared_titles(tree: lxml_html.HtmlElement, json_ld: list[dict]) -> Iterator[str]:
    for node in json_ld:
        if isinstance(headline := node.get("headline"), str) and headline.strip():
            yield headline
    if social := _first_content(tree, ("og:title", "twitter:title")):
        yield social
    if (element := tree.find(".//title")) is not None and element.text_content().strip():
        yield element.text_content()


def _page_headlines(tree: lxml_html.HtmlElement, most: int = 8) -> Iterator[lxml.etree._Element]:
    """h1 elements, and h2 elements marked as the headline or title, in page order, with text."""
    marked = [e for e in tree.iter("h1", "h2") if e.tag == "h1" or re.search("headline|title", e.get("class", ""))]
    yield from (element for element in marked[:most] if _text(element))


def headline_agreement(headline: str, title: str) -> float:
    """How far two headlines are one story's: 1 when all the headline's words make most of the
    title ("Headline | Site"), else the share of words they have in common (Jaccard)."""
    mine, theirs = title_words(headline), title_words(title)
    if not mine or not theirs:
        return 0.0
    if mine <= theirs and len(mine) >= 2 * len(theirs - mine):
        return 1.0
    return len(mine & theirs) / len(mine | theirs)


def title_words(text: str) -> set[str]:
    """Words, case and width folded; each CJK character counts as a word."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return set(WORD.findall(CJK_CHARACTER.sub(lambda m: f" {m.group()} ", text)))


def _first_content(tree: lxml_html.HtmlElement, names: tuple[str, ...]) -> str | None:
    """The content of the first meta tag of each name in turn (property or name), if any."""
    found: dict[str, str] = {}
    for meta in tree.getroottree().iter("meta"):
        key = meta.get("property") or meta.get("name")
        content = (meta.get("content") or "").strip()
        if key in names and content and key not in found:
            found[key] = content
    return next((found[n] for n in names if n in found), None)


def clean_title(title: str | None, site: SiteNames = NO_SITE, rules: MetadataRules = METADATA_RULES) -> str | None:
    """Drop leading and trailing segments that name the site ("Headline | The Gazette",
    "CNN Politics | Headline", "見出し：朝日新聞デジタル")."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = TITLE_SEPARATOR.split(title)
    separators = TITLE_SEPARATOR.findall(title)
    start, end = 0, len(parts)
    while end - start > 1 and site.named_by(parts[end - 1], rules.site_name_variants):
        end -= 1
    while end - start > 1 and site.named_by(parts[start], rules.site_name_variants):
        start += 1
    if (start, end) == (0, len(parts)):
        return title
    kept = parts[start] + "".join(separators[i - 1] + parts[i] for i in range(start + 1, end))
    return kept.strip()


# --- authors -----------------------------------------------------------------------


def page_authors(
    tree: lxml_html.HtmlElement,
    site: SiteNames,
    rules: MetadataRules = METADATA_RULES,
    declared: str | None = None,
    headline: lxml.etree._Element | None = None,
) -> list[str]:
    """The people the page credits: those of its author meta tags (the most specific first), else
    of what trafilatura reads from its meta tags and schema.org author (`declared`: names joined by
    "; "), else of its bylines, the one just below the `headline` first; the first source that
    names a person."""
    for credits in _credits(tree, rules, declared, headline):
        if people := credited_people(credits, site, rules):
            return people
    return []


def _credits(
    tree: lxml_html.HtmlElement, rules: MetadataRules, declared: str | None = None, headline: lxml.etree._Element | None = None
) -> Iterator[list[str]]:
    """Author strings, source by source, most trusted first."""
    if rules.meta_authors:
        values = _author_meta_values(tree)
        yield from (values[name] for name in AUTHOR_META if values.get(name))
        if declared:
            yield declared.split("; ")
    yield from byline_groups(tree, rules.all_bylines, headline=headline if rules.headline_byline else None)


def _author_meta_values(tree: lxml_html.HtmlElement) -> dict[str, list[str]]:
    """Every content of the AUTHOR_META tags, by name, but URLs."""
    values: dict[str, list[str]] = {}
    for meta in tree.getroottree().iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").lower()
        if key not in AUTHOR_META:
            continue
        content = " ".join((meta.get("content") or "").split())
        if content and not re.match(r"(?:https?:)?//|www\.", content) and content not in values.get(key, []):
            values.setdefault(key, []).append(content)
    return values


def credited_people(credits: list[str], site: SiteNames = NO_SITE, rules: MetadataRules = METADATA_RULES) -> list[str]:
    """The people among byline strings, each once, in order."""
    people: list[str] = []
    for credit in credits:
        for name in split_authors(credit, site, rules):
            if folded(name) not in {folded(p) for p in people}:
                people.append(name)
    return people


def split_authors(author: str | None, site: SiteNames = NO_SITE, rules: MetadataRules = METADATA_RULES) -> list[str]:
    """People from a byline string: "By Jane Doe and John Roe" -> ["Jane Doe", "John Roe"]; job
    titles dropped ("Tom Krisher, AP Auto Writer" -> ["Tom Krisher"]); "Gillman, Steve" one person;
    outlets and agencies out ("Pete Evans · CBC News" -> ["Pete Evans"]); what else a byline
    element holds cut ("Oli Coleman View author archive" -> ["Oli Coleman"]); bylines a page glued
    together split again ("Jane DoeJohn Roe" -> ["Jane Doe", "John Roe"])."""
    if not author:
        return []
    names: list[str] = []
    author = author.replace("\xa0", " ")
    if rules.clutter_out:
        author = BRACKETED.sub("", PICTURE_CREDIT_AFTER.sub("", author))
    for part in _split_names(BYLINE_PREFIX.sub("", author), rules):
        name = BYLINE_PREFIX.sub("", part).strip(" .,;:|-–—()[]")
        if rules.clutter_out and PICTURE_CREDIT.match(name):
            continue
        if rules.clutter_out:
            name = _without_clutter(name)
        if rules.job_titles_out:
            name = _without_job_title(name, site)
        for glued in _unglue(name):
            if rules.organisations_out:
                glued = _without_organisation(glued, site)
            if _is_a_name(glued) and glued not in names:
                names.append(glued)
    return names


def _split_names(byline: str, rules: MetadataRules) -> list[str]:
    """Parts between separators; a comma divides names unless the part is "Surname, Given"."""
    parts = []
    for part in NAME_SEPARATOR.split(byline):
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if rules.surname_given and len(pieces) == 2 and _is_surname_given(*pieces):
            parts.append(f"{pieces[1]} {pieces[0]}")
        else:
            parts += pieces
    return parts


def _is_surname_given(before: str, after: str) -> bool:
    """ "Gillman, Steve", "Smith, John A.": one capitalised word, then one or two given names."""
    given = after.split()
    return (
        len(before.split()) == 1
        and before[:1].isupper()
        and 1 <= len(given) <= 2
        and all(w[:1].isupper() for w in given)
        and not any(JOB_NOUN.fullmatch(w) for w in given)
        and not any(folded(w) in ORGANISATION_WORDS for w in [before, *given])
    )


def _without_clutter(name: str) -> str:
    """The name before what follows it in a byline element: a prompt, a date, an e-mail, a handle,
    the name again, or the sentence it starts ("Jane Doe is a reporter"); "" when a sentence comes
    before the name ("Click here for more on Jane Doe"). A month's name is a first name only before
    a surname ("April Glaser")."""
    words = name.split()
    kept: list[str] = []
    in_sentence = False  # a function word before the name: a prompt's sentence ("Click here for more on ...")
    for index, word in enumerate(words):
        bare = word.strip(".,:;()[]").casefold()
        following = words[index + 1] if index + 1 < len(words) else ""
        if not kept and BY_WORD.match(bare) and following[:1].isupper():
            in_sentence = False  # the name follows ("Posted on December 19 by Jane Doe")
            continue
        is_date = bare in MONTHS and (kept or not following[:1].isupper() or following.strip(".").casefold() in MONTHS)
        lower_case = word[:1].islower() and bare not in NAME_PARTICLES
        if (
            bare in CLUTTER_WORDS
            or is_date
            or any(c.isdigit() for c in word)
            or "@" in word
            or (lower_case and (len(kept) >= 2 or bare in FUNCTION_WORDS))
        ):
            if not kept:
                in_sentence = in_sentence or bare in FUNCTION_WORDS
                continue  # what comes before the name ("Lesedauer: 8 Minuten Melanie Wassink")
            break
        if in_sentence:
            return ""
        if kept and bare == kept[0].casefold():
            break  # the name again ("Ellyn Shook Ellyn Shook ...")
        kept.append(word)
    return " ".join(kept)


def _without_job_title(name: str, site: SiteNames = NO_SITE) -> str:
    """The name before a job title; "" when the part is only a title ("Staff Writer")."""
    words = name.split()
    abbreviations_qualify = not name.isupper()  # "AP" qualifies a title, unless all is capitals
    for index, word in enumerate(words):
        if JOB_NOUN.fullmatch(word.strip(",")):
            start = index
            # walk back over the title's qualifiers: "AP Auto", "Senior White House", "BuzzFeed UK News"
            while start > 0 and (
                (abbreviations_qualify and words[start - 1].isupper())
                or words[start - 1].casefold() in JOB_QUALIFIERS
                or site.named_by(words[start - 1], variants=False)
            ):
                start -= 1
            return " ".join(words[:start]).strip(" ,")
    return name


def _without_organisation(name: str, site: SiteNames = NO_SITE) -> str:
    """ "" for an organisation's credit (the site, an agency, a desk: "CBC News", "AOL Staff"); a
    person's name with an outlet's after it keeps the person ("Meg Wagner NEW YORK DAILY NEWS")."""
    words = name.split()
    if not name.isupper():
        while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 1:  # an outlet in capitals
            words.pop()
    if len(words) >= 4 and folded(words[-1]) in ORGANISATION_WORDS and words[-2][:1].isupper():
        words = words[:-2]  # an outlet after a name: "Joe Davidson Washington Post"
    if not words or site.named_by(" ".join(words)):
        return ""
    if folded(words[0]) == "the" or any(folded(w) in ORGANISATION_WORDS for w in words):
        return ""
    return " ".join(words)


def _is_a_name(name: str) -> bool:
    """A person's name: one to five words with a letter, not a lone word in lower case."""
    words = name.split()
    return 1 <= len(words) <= 5 and any(c.isalpha() for c in name) and not (len(words) == 1 and name.islower())


def _unglue(part: str) -> list[str]:
    """Split "Jane DoeJohn Roe" where a name's end runs into the next one's start, when both
    sides keep two words or more ("Mary McDonald" stays whole)."""
    for match in GLUED_NAMES.finditer(part):
        before, after = part[: match.start() + 1], part[match.start() + 1 :]
        if len(before.split()) >= 2 and len(after.split()) >= 2 and not re.search(r"\b(Mc|Mac|De|Di|La|Le|Van|Von)$", before):
            return [before, *_unglue(after)]
    return [part]


# --- bylines on the page -------------------------------------------------------------

# trafilatura 2.3.1's extract_author (trafilatura/metadata.py, with the expressions of
# trafilatura/xpaths.py AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS) tests each element's class and
# id with EXSLT regular expressions in XPath, which libxml2 evaluates slowly, on a copy of the
# tree with comment sections, sidebars, dates and figures removed. The same tests in Python on
# each element's attributes, with the same regular expressions, in one walk of the tree that
# skips those parts instead of copying it, find the same elements in a fraction of the time.
# tests/test_metadata.py checks that page_author answers as trafilatura's extract_author does.
DISCARD_TAGS = ("a", "div", "section", "span")
DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    r"|print|category|meta-date|meta-reviewer"
)
BYLINE_TAGS = ("a", "address", "div", "link", "p", "span", "strong")
BYLINE_CLASS = re.compile(r"author-?name|AuthorName|authorName")
AUTHOR_TAGS = ("a", "div", "h3", "h4", "p", "span")
AUTHOR_ID = re.compile(r"author|zuozhe|bianji|xiaobian")
AUTHOR_CLASS = re.compile(r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
ANY_AUTHOR_ID = re.compile(r"[Aa]uthor")
ANY_AUTHOR_CLASS = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")
AUTHOR_PAGE = re.compile(
    r"/(?:authors?|profiles?|by|people|staff|writers?|editors?|journalists?|autor(?:en)?|auteurs?)/[^/?#]+/?(?:[?#]|$)"
)
BY_WORD = re.compile(r"^(?:by|par|von|por|di|door|av|af)(?:\s|:|$)", re.IGNORECASE)
BY_LINE_TAGS = ("span", "div", "p", "address", "li", "strong", "em", "b")
# How far below the headline, in characters of text, the article's byline may start: past a
# standfirst, a date and a share bar, short of the body's first paragraphs.
BYLINE_REACH = 600


def _is_discarded(element: lxml.etree._Element) -> bool:
    """Comment sections, sidebars, quotes, dates and figures: no author is read from them."""
    if element.tag in ("time", "figure"):
        return True
    if element.tag not in DISCARD_TAGS:
        return False
    ident, kind = element.get("id", ""), element.get("class", "")
    return (
        ident == "comments"
        or kind in ("comments", "title", "date")
        or bool(DISCARD_ID.search(ident))
        or bool(DISCARD_CLASS.search(kind))
        or "Figure" in element.get("data-component", "")
    )


def _is_byline(element: lxml.etree._Element) -> bool:
    """Marked as the author by rel, id, class, itemprop or a test id; an <author> element."""
    if element.tag == "author":
        return True
    kind = element.get("class", "")
    return (
        element.get("rel") == "author"
        or element.get("id") == "author"
        or kind == "author"
        or element.get("itemprop") == "author name"
        or element.get("data-testid") in ("AuthorCard", "AuthorURL")
        or bool(BYLINE_CLASS.search(kind))
        or any("".join(rel.itertext()) == "me" for rel in element.iterchildren("rel"))
    )


def _is_author_block(element: lxml.etree._Element) -> bool:
    """A byline by its usual class or id (in several languages)."""
    kind = element.get("class", "")
    return (
        kind in ("byline", "username", "byl", "BBL")
        or "author" in element.get("itemprop", "")
        or bool(AUTHOR_ID.search(element.get("id", "")))
        or bool(AUTHOR_CLASS.search(kind))
    )


def _mentions_an_author(element: lxml.etree._Element) -> bool:
    """The last resort: markup that mentions an author, a writer or a byline."""
    return (
        "Byline" in element.get("data-component", "")
        or "author" in element.get("itemprop", "")
        or bool(ANY_AUTHOR_ID.search(element.get("id", "")))
        or bool(ANY_AUTHOR_CLASS.search(element.get("class", "")))
    )


def _is_author_link(element: lxml.etree._Element) -> bool:
    """A link to an author's page (/author/jane-doe, /profile/..., /by/...), not in a sentence of
    the text (a link to a person's page in a paragraph names who the story is about)."""
    if element.tag != "a" or not AUTHOR_PAGE.search(element.get("href") or ""):
        return False
    parent = element.getparent()
    return parent is None or len(_text(parent)) < 120


def _opens_with_by(element: lxml.etree._Element) -> bool:
    """An element whose own text opens with the by-word: "By Jane Doe", "<span>By </span>"."""
    return element.tag in BY_LINE_TAGS and bool(BY_WORD.match((element.text or "").strip()))


# trafilatura's three finders first, in its order; then links to author pages; then "By ..." lines.
# Each with the tags it looks at (None: all elements).
BYLINE_FINDERS = (
    (_is_byline, (*BYLINE_TAGS, "author")),
    (_is_author_block, AUTHOR_TAGS),
    (_mentions_an_author, None),
    (_is_author_link, ("a",)),
    (_opens_with_by, BY_LINE_TAGS),
)
TRAFILATURA_FINDERS = 3
# What the first three finders test: an attribute, an <author> tag or a <rel> child. Walking the
# whole tree in Python for each finder cost more than trafilatura's own author search; so does
# listing every element with an attribute and testing each in Python.
MARKING_ATTRIBUTES = lxml.etree.XPath("//@class | //@id | //@itemprop | //@rel | //@data-testid | //@data-component")
MARKED_WITHOUT_ATTRIBUTES = lxml.etree.XPath("//author | //*[rel]")
LINKS = lxml.etree.XPath("//a[@href]")
# Every word those attribute tests look for, in lower case: an element none of whose attributes holds
# one matches none of the finders, so they test only the few elements that do. (A regular expression
# ignoring case is several times slower.)
MARKED_WORDS = re.compile(
    r"author|byl|bbl|username|screenname|writer|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)


def byline_groups(
    tree: lxml_html.HtmlElement,
    every: bool = True,
    finders: int = len(BYLINE_FINDERS),
    headline: lxml.etree._Element | None = None,
) -> Iterator[list[str]]:
    """With a `headline`, first the byline just below it (_byline_below). Then, for each finder in
    turn, the page's byline texts: its first element with 3 to 119 characters of text outside
    comment sections, dates and figures, as trafilatura reads it; with `every`, the finder's other
    elements in the same byline too (several authors, each in a link of its own)."""
    if headline is not None and (below := _byline_below(headline, every)):
        yield below
    discarded = Discarded(tree)
    for elements in _finder_elements(tree, discarded, finders):
        elements = [e for e in elements if 2 < len(_visible_text(e, discarded)) < 120]
        if elements:
            yield _byline_texts(elements, elements[0], every, discarded)


def _finder_elements(tree: lxml_html.HtmlElement, discarded: Discarded, finders: int) -> Iterator[list]:
    """For each finder in turn, the elements it finds outside discarded parts, in page order."""
    marked = None  # listed once, for the three finders
    for finder, tags in BYLINE_FINDERS[:finders]:
        if finder is _opens_with_by:
            candidates = tree.iter(*tags)
        elif finder is _is_author_link:
            candidates = LINKS(tree)
        else:
            marked = _marked_elements(tree) if marked is None else marked
            candidates = (e for e in marked if tags is None or e.tag in tags)
        elements = [e for e in candidates if finder(e) and not _inside(e, discarded)]
        yield _by_lines(elements, discarded) if finder is _opens_with_by else elements


def _byline_texts(elements: list, first: lxml.etree._Element, every: bool, discarded: Discarded) -> list[str]:
    group = [e for e in elements if e is first or (every and _beside(e, first))]
    return list(dict.fromkeys(_visible_text(e, discarded) for e in group))


def _byline_below(headline: lxml.etree._Element, every: bool = True) -> list[str]:
    """The byline that any finder finds nearest below the headline, within BYLINE_REACH characters
    of text: the article's own, where others on the page credit related stories, an author box
    or an editor. Of that element, or of those inside it, the one the most trusted finder finds
    (the author's link inside a byline that also holds a date and a job title), with that
    finder's others beside it. Below the headline, a wrapper holding it is the article's, never
    a sidebar or comment section to discard, whatever its class says ("content-sidebar-wrap",
    "category-news")."""
    in_article = Discarded(headline.getroottree().getroot(), headline)
    window = _starting_below(headline, BYLINE_REACH)
    found = [_found_by(finder, tags, window, in_article) for finder, tags in BYLINE_FINDERS]
    bylines = {e for elements in found for e in elements}
    nearest = next((e for e in window if e in bylines), None)
    if nearest is None:
        return []
    inside = {nearest, *nearest.iterdescendants()}
    elements, first = next((elements, e) for elements in found for e in elements if e in inside)
    return _byline_texts(elements, first, every, in_article)


def _found_by(finder: Callable[[lxml.etree._Element], bool], tags: tuple | None, window: list, discarded: Discarded) -> list:
    """The finder's bylines among the elements of the window, with 3 to 119 characters of text."""
    elements = [e for e in window if (tags is None or e.tag in tags) and finder(e) and not _inside(e, discarded)]
    if finder is _opens_with_by:
        starting_below = set(window)
        elements = [e for e in _by_lines(elements, discarded) if e in starting_below]
    return [e for e in elements if 2 < len(_visible_text(e, discarded)) < 120]


def _starting_below(headline: lxml.etree._Element, reach: int) -> list:
    """The elements that start below the headline with at most `reach` characters of text (scripts
    and styles aside) between the headline's end and their start, in page order."""
    window, below = [], len((headline.tail or "").strip())
    for event, element in _after(headline):
        if below > reach:
            break
        if event == "start" and isinstance(element.tag, str):
            window.append(element)
            if element.tag not in ("script", "style"):
                below += len((element.text or "").strip())
        elif event == "start":
            continue  # a comment: its text is none of the page's
        else:
            below += len((element.tail or "").strip())
    return window


def _after(element: lxml.etree._Element) -> Iterator[tuple[str, lxml.etree._Element]]:
    """The elements after this one's end, as ("start" | "end", element) in page order."""
    while element is not None:
        for sibling in element.itersiblings():
            if isinstance(sibling.tag, str):
                yield from lxml.etree.iterwalk(sibling, events=("start", "end"))
            else:  # a comment or processing instruction: only its tail is text
                yield "end", sibling
        element = element.getparent()
        if element is not None:
            yield "end", element


def _marked_elements(tree: lxml_html.HtmlElement) -> list:
    """The elements the first three finders may match, in document order: those with an attribute
    holding one of MARKED_WORDS (one search over the page's attribute values, joined), <author>
    elements and those holding a <rel>."""
    attributes = MARKING_ATTRIBUTES(tree)  # strings that know their element
    values = [value.lower() for value in attributes]
    starts = list(itertools.accumulate((len(value) + 1 for value in values), initial=0))
    hits = sorted({bisect.bisect_right(starts, found.start()) - 1 for found in MARKED_WORDS.finditer("\n".join(values))})
    elements = list(dict.fromkeys(attributes[index].getparent() for index in hits))
    if others := MARKED_WITHOUT_ATTRIBUTES(tree):  # rare: put them in document order
        wanted = {*elements, *others}
        elements = [element for element in tree.iter() if element in wanted]
    return elements


class Discarded:
    """Whether an element is discarded (_is_discarded), asked of the few elements a finder
    matches and their ancestors and descendants, and remembered: testing every element of the
    page first cost more than the search."""

    def __init__(self, tree: lxml_html.HtmlElement, headline: lxml.etree._Element | None = None) -> None:
        self.known: dict = dict.fromkeys([tree, *tree.iterancestors()], False)  # only what the tree holds is
        if headline is not None:  # what holds the headline holds the article
            self.known.update(dict.fromkeys(headline.iterancestors(), False))

    def __contains__(self, element: lxml.etree._Element) -> bool:
        if (found := self.known.get(element)) is None:
            found = self.known[element] = _is_discarded(element)
        return found


def _inside(element: lxml.etree._Element, discarded: Discarded) -> bool:
    return element in discarded or any(ancestor in discarded for ancestor in element.iterancestors())


def _by_lines(openers: list, discarded: Discarded) -> list:
    """The byline of each element opening with the by-word: itself, or its parent when the
    by-word stands alone ("<span>By </span><a>Jane Doe</a>"); eight words at most."""
    bylines = []
    for element in openers:
        alone = len((element.text or "").split()) == 1 and not len(element)
        byline = element.getparent() if alone else element
        if byline is not None and byline not in bylines and len(_visible_text(byline, discarded).split()) <= 8:
            bylines.append(byline)
    return bylines


def _visible_text(element: lxml.etree._Element, discarded: Discarded) -> str:
    """The element's text without its discarded parts (their tails kept, as trafilatura's
    pruning keeps them), whitespace folded."""
    return " ".join(" ".join(_text_pieces(element, discarded)).split())


def _text_pieces(element: lxml.etree._Element, discarded: Discarded) -> Iterator[str]:
    if isinstance(element.tag, str) and element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child not in discarded:
            yield from _text_pieces(child, discarded)
        if child.tail:
            yield child.tail


def _text(element: lxml.etree._Element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _beside(element: lxml.etree._Element, first: lxml.etree._Element) -> bool:
    """In the same byline as the first: the same parent, or parents with the same parent."""
    parent, first_parent = element.getparent(), first.getparent()
    if parent is None or first_parent is None:
        return False
    return parent is first_parent or (parent.getparent() is not None and parent.getparent() is first_parent.getparent())


def page_author(tree: lxml_html.HtmlElement) -> str | None:
    """The page's first byline by trafilatura's three finders, normalised as trafilatura's
    extract_author returns it: kept to check that those finders are trafilatura's
    (tests/test_metadata.py)."""
    bylines = next(byline_groups(tree, every=False, finders=TRAFILATURA_FINDERS), None)
    return normalize_authors(None, bylines[0]) if bylines else None
