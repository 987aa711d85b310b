"""Many pages per outlet from the extraction benchmark's single pages, for storage measurements.

The benchmark has 91 real pages from 77 sites: at most two per site, too few to train a
per-outlet compression dictionary on, or to measure one. Each usable page serves as one
outlet's *template*: its own article (the paragraphs of its container of paragraphs, its
title, the sentences of its ground truth wherever they appear in the page, as in JSON-LD or
meta descriptions) is replaced by another benchmark page's article, one page per other
article. What stays is the site's real chrome: markup, inline scripts and styles, navigation,
footers. To keep the pages of one outlet from sharing more than real pages do, every number
of five digits or more (ids, timestamps, cache keys) and the page's own slug are drawn anew
per page, and a template whose own article survives the swap anywhere (in script data in some
other encoding) is not used. No two generated pages are identical.

A real outlet's pages also differ in their sidebars, related links and ads, which here stay
those of the template: the corpus is kinder to a per-outlet dictionary than a crawl is. The
numbers redrawn per page push the other way. BENCHMARKS.md gives the figures on this corpus.
"""

from __future__ import annotations

import gzip
import html as html_escape
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

MIN_PARAGRAPHS = 3  # a template needs a real container of paragraphs to swap the article into
LONG_NUMBER = re.compile(rb"\d{5,}")


@dataclass
class Template:
    host: str
    url: str
    html: str
    body: str  # the ground-truth article body


@dataclass
class GeneratedPage:
    outlet: str
    url: str
    body: bytes


def load_templates(data: Path) -> list[Template]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    templates = []
    for page_id, record in sorted(truth.items()):
        raw = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
        templates.append(
            Template(
                urlsplit(record["url"]).hostname or page_id,
                record["url"],
                raw.decode("utf-8", errors="replace"),
                record["articleBody"],
            )
        )
    return templates


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _container(tree) -> lxml.html.HtmlElement | None:
    """The element with the most paragraph children: where the article's text lives."""
    best, best_count = None, MIN_PARAGRAPHS - 1
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        count = sum(1 for child in element if child.tag == "p" and (child.text_content() or "").strip())
        if count > best_count:
            best, best_count = element, count
    return best


def _swap_article(tree, container, article: list[str], title: str) -> None:
    first = next(child for child in container if child.tag == "p")
    attributes = dict(first.attrib)
    position = list(container).index(first)
    for child in [c for c in container if c.tag == "p"]:
        container.remove(child)
    for offset, text in enumerate(article):
        paragraph = lxml.html.Element("p", attributes)
        paragraph.text = text
        container.insert(position + offset, paragraph)
    for heading in tree.iter("title", "h1"):
        for child in list(heading):
            heading.remove(child)
        heading.text = title


def _replace_stray_paragraphs(tree, old: list[str], new: list[str]) -> None:
    """Elements outside the container that hold the template's own paragraphs (articles split in
    several blocks) get the new article's."""
    starts = {" ".join(p.split())[:40] for p in old if len(p) >= 40}
    for index, element in enumerate(tree.iter("p", "div", "li", "span", "blockquote", "h2", "h3")):
        if " ".join((element.text_content() or "").split())[:40] in starts:
            for child in list(element):
                element.remove(child)
            element.text = new[index % len(new)]


def _replace_old_text(page: str, old: list[str], new: list[str]) -> str:
    """The template's own sentences, wherever else they appear (JSON-LD, meta tags, as HTML or
    JSON text), become the new article's."""
    for index, paragraph in enumerate(old):
        if len(paragraph) < 40:
            continue
        replacement = new[index % len(new)]
        for encode in (str, html_escape.escape, lambda t: json.dumps(t)[1:-1], lambda t: json.dumps(t, ensure_ascii=False)[1:-1]):
            page = page.replace(encode(paragraph), encode(replacement))
            page = page.replace(encode(paragraph[:80]), encode(replacement[:80]))
    return page


def _redraw_numbers(page: bytes, rng: random.Random) -> bytes:
    return LONG_NUMBER.sub(lambda m: str(rng.randrange(10 ** (len(m.group()) - 1), 10 ** len(m.group()))).encode(), page)


def outlet_pages(template: Template, articles: list[str], rng: random.Random) -> list[GeneratedPage] | None:
    """The template's outlet publishing each of `articles` (None: the template has no paragraph container)."""
    try:
        original = lxml.html.document_fromstring(template.html)
    except (lxml.etree.ParserError, ValueError):
        return None
    if _container(original) is None:
        return None
    slug = urlsplit(template.url).path.rstrip("/").rsplit("/", 1)[-1]
    old = paragraphs(template.body)
    pages = []
    for number, article in enumerate(articles):
        new = paragraphs(article)
        title = " ".join(new[0].split()[:12])
        tree = lxml.html.document_fromstring(template.html)
        _swap_article(tree, _container(tree), new, title)
        _replace_stray_paragraphs(tree, old, new)
        page = _replace_old_text(lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>"), old, new)
        new_slug = f"story-{number}-{rng.randrange(10**9)}"
        if len(slug) > 8:
            page = page.replace(slug, new_slug)
        url = template.url.replace(slug, new_slug) if len(slug) > 8 else f"{template.url}#{new_slug}"
        if _keeps_old_text(page, old):
            return None
        pages.append(GeneratedPage(template.host, url, _redraw_numbers(page.encode("utf-8"), rng)))
    return pages


def _keeps_old_text(page: str, old: list[str]) -> bool:
    """The template's own article survived the swap somewhere (say, in script data in another
    encoding): every page of the outlet would repeat it, so the template is not used."""
    return any(p[:60] in page or html_escape.escape(p[:60]) in page for p in old if len(p) > 60)


def build_corpus(data: Path, outlets: int, pages_per_outlet: int, seed: int = 2017) -> dict[str, list[GeneratedPage]]:
    """Up to `outlets` outlets (0: every usable template), each with `pages_per_outlet` pages
    carrying other templates' articles."""
    rng = random.Random(seed)
    templates = load_templates(data)
    corpus: dict[str, list[GeneratedPage]] = {}
    for index, template in enumerate(templates):
        if outlets and len(corpus) >= outlets:
            break
        others = [t.body for t in templates[index + 1 :] + templates[:index]][:pages_per_outlet]
        pages = outlet_pages(template, others, rng)
        if pages and template.host not in corpus:
            corpus[template.host] = pages
    return corpus
