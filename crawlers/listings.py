"""Read listings (RSS 2.0 and Atom feeds, sitemaps and sitemap indexes) into dated entries, and
say when a listing could be read only in part (damaged XML, a parser limit, a size cap)."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree

from pipelines.core.dating import normalise_date

# No entities, no network, no DTDs, libxml2's size limits: listings come from servers we do not
# control. A listing past a limit (an entity expanding a billion times, a text node over 10 MB) or
# cut short is read up to there; Listing.damage says so.
_PARSER_OPTIONS = {"recover": True, "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
# The sitemaps protocol's own limit, for a sitemap file served gzipped (sitemap.xml.gz).
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


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
class Listing:
    kind: str  # "feed", or a sitemap's: "index" or "urlset"
    entries: tuple[ListingEntry, ...]
    damage: str | None = None  # why the entries after some point are missing, when they are


def _root(body: bytes) -> tuple[lxml.etree._Element, str | None]:
    """The document's root, and what stopped the parser before the end, if something did."""
    parser = lxml.etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError as error:
        raise NotAListing(f"not XML ({error})") from error
    if root is None:
        raise NotAListing("empty or unreadable XML")
    fatal = next((e for e in parser.error_log if e.level == lxml.etree.ErrorLevels.FATAL), None)
    return root, (f"damaged XML ({fatal.message.strip()})" if fatal else None)


def _local(tag: object) -> str:
    """An element's name without its namespace, or its prefix when the namespace is undeclared
    (the parser recovers <news:title> as "news:title")."""
    return tag.rpartition("}")[2].rpartition(":")[2].lower() if isinstance(tag, str) else ""


def _child_text(element: lxml.etree._Element, *names: str) -> str | None:
    """Text of the first descendant whose local name is one of names (namespaces ignored)."""
    for node in element.iter():
        if _local(node.tag) in names and node.text and node.text.strip():
            return node.text.strip()
    return None


def parse_feed(body: bytes, base_url: str) -> Listing:
    """Entries of an RSS 2.0 (or RSS 1.0/RDF) or Atom feed."""
    root, damage = _root(body)
    kind = _local(root.tag)
    if kind == "feed":
        return Listing("feed", tuple(_atom_entry(e, base_url) for e in root if _local(e.tag) == "entry"), damage)
    if kind in ("rss", "rdf"):
        return Listing("feed", tuple(_rss_item(i, base_url) for i in root.iter() if _local(i.tag) == "item"), damage)
    raise NotAListing(f"not a feed (root element <{kind}>)")


def _rss_item(item: lxml.etree._Element, base_url: str) -> ListingEntry:
    link = _child_text(item, "link") or _guid_link(item) or ""
    published = _child_text(item, "pubdate", "date", "published")
    return ListingEntry(url=urljoin(base_url, link), published=normalise_date(published), title=_child_text(item, "title"))


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


def parse_sitemap(body: bytes, base_url: str, max_bytes: int = SITEMAP_MAX_BYTES) -> Listing:
    """A sitemap index or urlset, gzipped or not (a gzipped one unpacked up to max_bytes); the news
    extension's publication_date is a publication date."""
    body, cut = _gunzip(body, max_bytes)
    root, damage = _root(body)
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
    return Listing("index" if kind == "sitemapindex" else "urlset", tuple(entries), cut or damage)


def _gunzip(body: bytes, max_bytes: int) -> tuple[bytes, str | None]:
    """A sitemap file served gzipped, beyond HTTP compression, unpacked up to max_bytes; and why
    it was not unpacked whole, if it was not. Fed to zlib a little at a time, so that a bomb
    stops at the limit and a stream broken off keeps what came before the break."""
    if body[:2] != GZIP_MAGIC:
        return body, None
    unpacked, view, at = bytearray(), memoryview(body), 0
    try:
        while body[at : at + 2] == GZIP_MAGIC:  # one gzip member after another
            member = zlib.decompressobj(wbits=31)
            while at < len(body) and not member.eof:
                unpacked += member.decompress(view[at : at + 4096])
                at += 4096
                if len(unpacked) > max_bytes:
                    return bytes(unpacked[:max_bytes]), f"it unpacks to more than SITEMAP_MAX_BYTES ({max_bytes} bytes)"
            if not member.eof:
                raise EOFError("the stream ends before its end marker")
            at = min(at, len(body)) - len(member.unused_data)
    except (zlib.error, EOFError) as error:
        if not unpacked:
            raise NotAListing(f"corrupt gzipped sitemap ({error})") from error
        return bytes(unpacked), f"its gzip stream breaks off after {len(unpacked)} bytes ({error})"
    return bytes(unpacked), None
