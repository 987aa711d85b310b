"""Read listings (RSS 2.0 and Atom feeds, sitemaps and sitemap indexes) into dated entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree

from pipelines.dating import normalise_date

# No entities, no network, no DTDs: listings come from servers we do not control.
_PARSER = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class NotAListing(Exception):
    """The document is neither a feed nor a sitemap."""


@dataclass(frozen=True)
class ListingEntry:
    url: str
    published: str | None = None  # a publication date the listing states
    modified: str | None = None  # a modification date (sitemap lastmod, Atom updated)
    title: str | None = None

    def outside(self, start: dt.date, end: dt.date) -> bool:
        """True when the listing's dates rule the entry out of the window.

        A publication date must fall in the window. A modification date before the
        window's start rules it out too (nothing published in the window was last
        changed before it); a later one proves nothing.
        """
        if self.published:
            return not start <= dt.date.fromisoformat(self.published[:10]) <= end
        return bool(self.modified) and dt.date.fromisoformat(self.modified[:10]) < start


@dataclass(frozen=True)
class Sitemap:
    kind: str  # "index" or "urlset"
    entries: tuple[ListingEntry, ...]


def _root(body: bytes) -> lxml.etree._Element:
    try:
        root = lxml.etree.fromstring(body, _PARSER)
    except lxml.etree.XMLSyntaxError as error:
        raise NotAListing(f"not XML ({error})") from error
    if root is None:
        raise NotAListing("empty or unreadable XML")
    return root


def _local(tag: object) -> str:
    return lxml.etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(element: lxml.etree._Element, *names: str) -> str | None:
    """Text of the first descendant whose local name is one of names (namespaces ignored)."""
    for node in element.iter():
        if _local(node.tag) in names and node.text and node.text.strip():
            return node.text.strip()
    return None


def parse_feed(body: bytes, base_url: str) -> list[ListingEntry]:
    """Entries of an RSS 2.0 (or RSS 1.0/RDF) or Atom feed."""
    root = _root(body)
    kind = _local(root.tag)
    if kind == "feed":
        return [_atom_entry(e, base_url) for e in root if _local(e.tag) == "entry"]
    if kind in ("rss", "rdf"):
        return [_rss_item(i, base_url) for i in root.iter() if _local(i.tag) == "item"]
    raise NotAListing(f"not a feed (root element <{kind}>)")


def _rss_item(item: lxml.etree._Element, base_url: str) -> ListingEntry:
    link = _child_text(item, "link") or _guid_link(item) or ""
    published = _child_text(item, "pubdate", "date", "published")
    return ListingEntry(
        url=urljoin(base_url, link),
        published=normalise_date(published),
        title=_child_text(item, "title"),
    )


def _guid_link(item: lxml.etree._Element) -> str | None:
    for node in item:
        if _local(node.tag) == "guid" and node.get("isPermaLink", "true") == "true" and node.text:
            return node.text.strip()
    return None


def _atom_entry(entry: lxml.etree._Element, base_url: str) -> ListingEntry:
    links = [n for n in entry if _local(n.tag) == "link"]
    alternate = next((n for n in links if n.get("rel", "alternate") == "alternate"), None)
    href = alternate.get("href", "") if alternate is not None else ""
    return ListingEntry(
        url=urljoin(base_url, href),
        published=normalise_date(_child_text(entry, "published", "issued")),
        modified=normalise_date(_child_text(entry, "updated", "modified")),
        title=_child_text(entry, "title"),
    )


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """A sitemap index or urlset; the news extension's publication_date is a publication date."""
    root = _root(body)
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise NotAListing(f"not a sitemap (root element <{kind}>)")
    entries = []
    for node in root:
        if _local(node.tag) not in ("sitemap", "url"):
            continue
        loc = _child_text(node, "loc")
        if not loc:
            continue
        entries.append(
            ListingEntry(
                url=urljoin(base_url, loc),
                published=normalise_date(_child_text(node, "publication_date")),
                modified=normalise_date(_child_text(node, "lastmod")),
                title=_child_text(node, "title"),
            )
        )
    return Sitemap("index" if kind == "sitemapindex" else "urlset", tuple(entries))
