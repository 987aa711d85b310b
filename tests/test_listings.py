"""Feeds and sitemaps parsed into dated entries; the window filter."""

import datetime as dt
import gzip

import pytest

from crawlers.listings import ListingEntry, NotAListing, parse_feed, parse_sitemap

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>G</title>
<item><title>One</title><link>https://g.example/one</link><pubDate>Mon, 16 Oct 2017 10:00:00 -0400</pubDate></item>
<item><title>Two</title><guid isPermaLink="true">https://g.example/two</guid></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><title>A</title><link rel="alternate" href="/a"/><published>2017-10-17T08:00:00Z</published><updated>2017-10-18T08:00:00Z</updated></entry>
</feed>"""
NEWS_SITEMAP = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://g.example/n</loc><lastmod>2017-10-20</lastmod><news:news><news:publication_date>2017-10-15T12:00:00Z</news:publication_date><news:title>N</news:title></news:news></url>
</urlset>"""
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://g.example/s1.xml</loc><lastmod>2017-09-01</lastmod></sitemap></sitemapindex>"""


def test_parse_feed_reads_rss_links_and_dates():
    feed = parse_feed(RSS, "https://g.example/feed")
    entries = feed.entries
    assert feed.damage is None
    assert [e.url for e in entries] == ["https://g.example/one", "https://g.example/two"]
    assert entries[0].published == "2017-10-16T10:00:00-04:00"


def test_parse_feed_reads_atom_and_tells_published_from_updated():
    (entry,) = parse_feed(ATOM, "https://g.example/atom.xml").entries
    assert entry.url == "https://g.example/a"
    assert (entry.published, entry.modified) == ("2017-10-17T08:00:00+00:00", "2017-10-18T08:00:00+00:00")


def test_parse_sitemap_reads_news_publication_date():
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://g.example/sitemap.xml")
    assert sitemap.kind == "urlset"
    assert sitemap.entries[0].published == "2017-10-15T12:00:00+00:00"
    assert sitemap.entries[0].modified == "2017-10-20"


def test_parse_sitemap_reads_index():
    sitemap = parse_sitemap(INDEX, "https://g.example/sitemap.xml")
    assert sitemap.kind == "index" and sitemap.entries[0].url == "https://g.example/s1.xml"


@pytest.mark.parametrize("body", [b"<html><body>hi</body></html>", b"not xml at all", b""])
def test_parse_listing_rejects_non_listings(body):
    with pytest.raises(NotAListing):
        parse_feed(body, "https://g.example/")
    with pytest.raises(NotAListing):
        parse_sitemap(body, "https://g.example/")


def test_parse_feed_does_not_resolve_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>
<rss><channel><item><title>&x;</title><link>https://g.example/x</link></item></channel></rss>""".encode()
    entries = parse_feed(body, "https://g.example/").entries
    assert [e.url for e in entries] == ["https://g.example/x"]
    assert all("TOPSECRET" not in (e.title or "") for e in entries)


LAUGHS = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
BILLION_LAUGHS = f"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{LAUGHS}]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://g.example/1</loc></url>
<url><loc>https://g.example/2</loc><lastmod>&l9;</lastmod></url>
<url><loc>https://g.example/3</loc></url>
<url><loc>https://g.example/4</loc></url>
</urlset>""".encode()
HUGE_TEXT = (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://g.example/1</loc><lastmod>'
    + b"x" * (11 * 1024 * 1024)
    + b"</lastmod></url><url><loc>https://g.example/2</loc></url></urlset>"
)
TRUNCATED = (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://g.example/1</loc></url><url><loc>https://g.ex'
)


@pytest.mark.parametrize(
    "body, read, damage",
    [
        (
            BILLION_LAUGHS,
            ["https://g.example/1", "https://g.example/2"],
            "damaged XML (Maximum entity amplification factor exceeded",
        ),
        (HUGE_TEXT, ["https://g.example/1"], "damaged XML (Resource limit exceeded: Text node too long"),
        (TRUNCATED, ["https://g.example/1", "https://g.ex"], "damaged XML (Premature end of data"),
    ],
)
def test_parse_sitemap_says_what_stopped_it(body, read, damage):
    """libxml2 recovers what it read before the damage and drops the rest: the listing says so."""
    sitemap = parse_sitemap(body, "https://g.example/sitemap.xml")
    assert [e.url for e in sitemap.entries] == read
    assert sitemap.damage.startswith(damage), sitemap.damage


def test_parse_feed_with_an_undeclared_prefix_is_read():
    """The parser recovers <news:title> without its namespace as the tag "news:title"."""
    body = b"<rss><channel><item><news:title>T</news:title><link>https://g.example/t</link></item></channel></rss>"
    feed = parse_feed(body, "https://g.example/")
    assert [(e.url, e.title) for e in feed.entries] == [("https://g.example/t", "T")]


def urlset(count: int) -> bytes:
    entries = "".join(f"<url><loc>https://g.example/{n}</loc></url>" for n in range(count))
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


def test_parse_sitemap_gzipped_is_unpacked_up_to_its_limit():
    packed = gzip.compress(urlset(100))
    assert len(parse_sitemap(packed, "https://g.example/s.xml.gz").entries) == 100
    cut = parse_sitemap(packed, "https://g.example/s.xml.gz", max_bytes=1000)
    assert 0 < len(cut.entries) < 100
    assert cut.damage == "it unpacks to more than SITEMAP_MAX_BYTES (1000 bytes)"


def test_parse_sitemap_gzipped_and_broken_off_is_read_up_to_the_break():
    packed = gzip.compress(urlset(1000))
    broken = parse_sitemap(packed[: len(packed) // 2], "https://g.example/s.xml.gz")
    assert 0 < len(broken.entries) < 1000
    assert broken.damage.startswith("its gzip stream breaks off after ")
    with pytest.raises(NotAListing):
        parse_sitemap(packed[:5], "https://g.example/s.xml.gz")


START, END = dt.date(2017, 10, 1), dt.date(2018, 1, 31)


@pytest.mark.parametrize(
    "entry, outside",
    [
        (ListingEntry("u", published="2017-10-15"), False),
        (ListingEntry("u", published="2018-10-05"), True),
        (ListingEntry("u", modified="2017-09-01"), True),
        (ListingEntry("u", modified="2019-01-01"), False),  # modified later proves nothing
        (ListingEntry("u"), False),
    ],
)
def test_listing_entry_window_filter(entry, outside):
    assert entry.outside(START, END) is outside


def test_parse_sitemap_gzipped_in_several_members_is_read_whole():
    whole = urlset(100)
    middle = whole.index(b"<url><loc>https://g.example/50<")
    sitemap = parse_sitemap(gzip.compress(whole[:middle]) + gzip.compress(whole[middle:]), "https://g.example/s.xml.gz")
    assert len(sitemap.entries) == 100 and sitemap.damage is None
