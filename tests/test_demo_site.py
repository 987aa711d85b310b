"""The demo press site: its servers, feeds, sitemaps and robots.txt, and the invariants of its ground truth."""

from __future__ import annotations

import datetime as dt
import html
import http.client
import json
import re
import urllib.robotparser
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html

from clippings.demo import DemoPage, DemoSite, load_pages
from clippings.demo.site import PAGES_FILE, InvalidPages

PAGES = load_pages()
ARTICLES = [page for page in PAGES if page.kind == "article"]
DATED = [page for page in ARTICLES if page.published]
OFF_TOPIC = [page for page in ARTICLES if not page.on_topic]
HTML_PAGES = [page for page in PAGES if page.kind in ("article", "index", "private")]
OUTLET_IDS = ["harbourview", "northfield", "pacificwire", "valmont"]
OUTLET_ZONES = {
    "harbourview": "America/New_York",
    "northfield": "Europe/London",
    "pacificwire": "America/Los_Angeles",
    "valmont": "Europe/Paris",
}

# Off-topic pages must not mention the topic at all, or their truth (on_topic: false) is ambiguous.
TOPIC_STRINGS = (
    "weinstein",
    "metoo",
    "me too",
    "moiaussi",
    "balancetonporc",
    "harass",
    "misconduct",
    "assault",
    "casting couch",
    "silence breakers",
    "timesup",
    "time's up",
)
TOPIC_PEOPLE = (
    "Ashley Judd",
    "Rose McGowan",
    "Gwyneth Paltrow",
    "Angelina Jolie",
    "Asia Argento",
    "Lucia Evans",
    "Mira Sorvino",
    "Rosanna Arquette",
    "Judith Godrèche",
    "Katherine Kendall",
    "Dawn Dunning",
    "Cara Delevingne",
    "Léa Seydoux",
    "Kate Beckinsale",
    "Eva Green",
    "Lupita Nyong'o",
    "Salma Hayek",
    "Uma Thurman",
    "Heather Graham",
    "Daryl Hannah",
    "Annabella Sciorra",
    "Laura Madden",
    "Zelda Perkins",
    "Sophie Dix",
    "Lysette Anthony",
    "Alyssa Milano",
    "Tarana Burke",
    "Anthony Rapp",
    "Terry Crews",
    "Bob Weinstein",
    "Miramax",
    "Lisa Bloom",
    "Lanny Davis",
    "David Boies",
    "Kevin Spacey",
    "Brett Ratner",
    "James Toback",
    "Roy Price",
    "Louis C.K.",
    "Roy Moore",
    "Al Franken",
    "Matt Lauer",
    "Charlie Rose",
    "Dustin Hoffman",
    "Jeffrey Tambor",
    "Mark Halperin",
    "Russell Simmons",
    "John Lasseter",
    "John Conyers",
    "Woody Allen",
    "Roman Polanski",
    "Bill Cosby",
    "Bill O'Reilly",
    "Roger Ailes",
    "Jodi Kantor",
    "Megan Twohey",
    "Ronan Farrow",
)
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}


def page_id(page: DemoPage) -> str:
    return f"{page.outlet}:{page.path}"


@dataclass
class Fetched:
    status: int
    content_type: str
    location: str | None
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str) -> Fetched:
    """One GET without following redirects, so 301s stay visible."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
    response = connection.getresponse()
    fetched = Fetched(response.status, response.getheader("Content-Type", ""), response.getheader("Location"), response.read())
    connection.close()
    return fetched


def strip_query(url: str) -> str:
    return url.split("?", 1)[0]


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


def outlet_of(site: DemoSite, outlet_id: str) -> dict:
    return next(outlet for outlet in site.outlets if outlet["id"] == outlet_id)


def feed_links(site: DemoSite, outlet_id: str) -> list[str]:
    root = etree.fromstring(fetch(outlet_of(site, outlet_id)["feeds"][0]).body)
    if root.tag == "rss":
        return [link.text for link in root.iterfind("channel/item/link")]
    return root.xpath("atom:entry/atom:link[@rel='alternate']/@href", namespaces=ATOM_NS)


def sitemap_entries(site: DemoSite, outlet_id: str) -> dict[str, etree._Element]:
    """Every <url> of an outlet's sitemaps by its <loc>, following a sitemap index."""
    entries, pending = {}, list(outlet_of(site, outlet_id)["sitemaps"])
    while pending:
        root = etree.fromstring(fetch(pending.pop()).body)
        pending += root.xpath("sm:sitemap/sm:loc/text()", namespaces=SITEMAP_NS)
        for url in root.xpath("sm:url", namespaces=SITEMAP_NS):
            entries[url.findtext("sm:loc", namespaces=SITEMAP_NS)] = url
    return entries


def all_seeds(site: DemoSite) -> set[str]:
    return {seed for outlet in site.outlets for seed in outlet["seeds"]}


def all_feed_links(site: DemoSite) -> set[str]:
    return {strip_query(link) for outlet_id in OUTLET_IDS for link in feed_links(site, outlet_id)}


def all_sitemap_links(site: DemoSite) -> set[str]:
    return {loc for outlet_id in OUTLET_IDS for loc in sitemap_entries(site, outlet_id)}


def parsed(site: DemoSite, page: DemoPage) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(fetch(site.url(page)).body)


class TagBalance(HTMLParser):
    """Records end tags that do not close the element opened last."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> while {self.open[-3:]} are open")
        else:
            self.open.pop()


# The running site ----------------------------------------------------------------------------


def test_demo_site_serves_each_outlet_on_its_own_port(site):
    domains = [outlet["domains"][0] for outlet in site.outlets]
    assert [outlet["id"] for outlet in site.outlets] == OUTLET_IDS
    assert len(set(domains)) == len(domains)
    for outlet in site.outlets:
        assert fetch(outlet["homepage"]).status == 200


def test_demo_site_outlets_follow_topic_file_format(site):
    for outlet in site.outlets:
        assert set(outlet) == {"id", "name", "country", "language", "domains", "homepage", "feeds", "sitemaps", "seeds"}
        base = f"http://{outlet['domains'][0]}"
        assert outlet["homepage"] == f"{base}/"
        assert all(url.startswith(f"{base}/") for url in outlet["feeds"] + outlet["sitemaps"] + outlet["seeds"])


@pytest.mark.slow
def test_demo_site_runs_alongside_another_instance(site):
    with DemoSite() as second:
        assert not set(site.outlets[0]["domains"]) & set(second.outlets[0]["domains"])
        assert fetch(second.outlets[0]["homepage"]).status == 200
    assert fetch(site.outlets[0]["homepage"]).status == 200


def test_demo_site_url_requires_a_started_site():
    with pytest.raises(RuntimeError, match="start"):
        DemoSite().url(ARTICLES[0])


def test_demo_site_does_not_log_requests(site, capfd):
    fetch(site.outlets[0]["homepage"])
    fetch(site.outlets[0]["homepage"] + "no-such-page")
    assert capfd.readouterr().err == ""


def test_demo_site_ignores_query_strings(site):
    assert fetch(site.url(ARTICLES[0]) + "?utm_source=test").status == 200


# Pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ARTICLES, ids=page_id)
def test_article_page_answers_200_with_its_title(site, page):
    fetched = fetch(site.url(page))
    assert fetched.status == 200
    assert fetched.content_type == "text/html; charset=utf-8"
    headlines = [h1.text_content() for h1 in lxml_html.fromstring(fetched.body).iter("h1")]
    assert headlines == [page.title]


@pytest.mark.parametrize("page", ARTICLES, ids=page_id)
def test_article_page_shows_every_paragraph(site, page):
    paragraphs = [p.text_content() for p in parsed(site, page).iter("p")]
    assert all(paragraph in paragraphs for paragraph in page.body)


@pytest.mark.parametrize("page", HTML_PAGES, ids=page_id)
def test_html_page_is_well_formed(site, page):
    text = fetch(site.url(page)).text
    checker = TagBalance()
    checker.feed(text)
    assert text.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.open == []


def test_html_pages_link_only_to_pages_that_exist(site):
    hosts = {outlet["domains"][0] for outlet in site.outlets}
    links = set()
    for page in HTML_PAGES:
        for href in parsed(site, page).xpath("//a/@href"):
            url = urljoin(site.url(page), href)
            if urlsplit(url).netloc in hosts:
                links.add(url)
    assert links
    assert [url for url in sorted(links) if fetch(url).status != 200] == []


@pytest.mark.parametrize("page", [p for p in DATED if p.outlet == "harbourview"], ids=page_id)
def test_harbourview_article_carries_news_article_json_ld(site, page):
    tree = parsed(site, page)
    data = json.loads(tree.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "NewsArticle" and data["headline"] == page.title
    assert data["datePublished"] == page.published_at
    assert dt.datetime.fromisoformat(data["dateModified"]) > dt.datetime.fromisoformat(page.published_at)
    assert [author["name"] for author in data.get("author", [])] == list(page.authors)
    assert tree.findtext(".//title") == f"{page.title} | The Harbourview Gazette"


@pytest.mark.parametrize("page", [p for p in DATED if p.outlet == "northfield"], ids=page_id)
def test_northfield_article_carries_open_graph_and_byline(site, page):
    tree = parsed(site, page)

    def meta(name: str) -> list[str]:
        return tree.xpath(f"//meta[@property='{name}']/@content")

    assert not tree.xpath("//script[@type='application/ld+json']")
    assert meta("og:title") == [page.title] and meta("og:type") == ["article"]
    assert meta("og:site_name") == ["Northfield Daily Ledger"]
    assert meta("article:published_time") == [page.published_at]
    assert tree.xpath("//p[@class='byline']")[0].text_content() == f"By {' and '.join(page.authors)}"


def test_northfield_bylines_name_two_authors():
    assert any(len(page.authors) == 2 for page in DATED if page.outlet == "northfield")


@pytest.mark.parametrize("page", [p for p in DATED if p.outlet == "pacificwire"], ids=page_id)
def test_pacificwire_article_dates_only_in_url_and_time_element(site, page):
    tree = parsed(site, page)
    assert not tree.xpath("//script[@type='application/ld+json']")
    assert not tree.xpath("//meta[contains(@property, 'time') or @name='date']")
    assert tree.xpath("//time[@itemprop='datePublished']/@datetime") == [page.published_at]
    assert page.path.startswith("/" + page.published.replace("-", "/") + "/")


@pytest.mark.parametrize("page", [p for p in DATED if p.outlet == "valmont"], ids=page_id)
def test_valmont_article_is_french_with_meta_date(site, page):
    tree = parsed(site, page)
    assert tree.get("lang") == "fr" and page.language == "fr"
    assert tree.xpath("//meta[@name='date']/@content") == [page.published_at]
    assert tree.xpath("//p[@class='signature']")[0].text_content().startswith("Par ")


def test_undated_article_shows_no_date_anywhere(site):
    undated = [page for page in ARTICLES if page.published is None]
    assert len(undated) == 1
    text = fetch(site.url(undated[0])).text
    assert not re.search(r"\b(19|20)\d\d\b", text)
    assert "datetime" not in text and "published_time" not in text and 'name="date"' not in text


# Feeds, sitemaps, robots.txt -----------------------------------------------------------------


@pytest.mark.parametrize("outlet_id", OUTLET_IDS)
def test_feed_is_well_formed_xml_with_charset(site, outlet_id):
    fetched = fetch(outlet_of(site, outlet_id)["feeds"][0])
    root = etree.fromstring(fetched.body)
    assert root.tag in ("rss", "{http://www.w3.org/2005/Atom}feed")
    assert "charset=utf-8" in fetched.content_type


@pytest.mark.parametrize("outlet_id", OUTLET_IDS)
def test_feed_lists_exactly_the_outlets_articles_inside_the_window(site, outlet_id):
    expected = {site.url(page) for page in DATED if page.outlet == outlet_id and page.in_window}
    links = [strip_query(link) for link in feed_links(site, outlet_id)]
    assert sorted(links) == sorted(expected)
    assert len(links) >= 5


def test_feed_dates_keep_the_outlet_offset(site):
    root = etree.fromstring(fetch(outlet_of(site, "harbourview")["feeds"][0]).body)
    first = next(page for page in DATED if page.path == "/2017/10/16/milano-me-too-tweet/")
    item = next(item for item in root.iterfind("channel/item") if item.findtext("link") == site.url(first))
    assert item.findtext("pubDate") == "Mon, 16 Oct 2017 22:45:00 -0400"


def test_feed_tracks_exactly_one_link_that_the_sitemap_lists_clean(site):
    tracked = [link for outlet_id in OUTLET_IDS for link in feed_links(site, outlet_id) if "?" in link]
    assert len(tracked) == 1
    clean, query = tracked[0].split("?")
    assert query == "utm_source=rss&utm_medium=feed"
    assert clean in all_sitemap_links(site)


@pytest.mark.parametrize("outlet_id", OUTLET_IDS)
def test_sitemap_lists_only_the_outlets_dated_articles(site, outlet_id):
    entries = sitemap_entries(site, outlet_id)
    expected = {site.url(page): page for page in DATED if page.outlet == outlet_id}
    assert set(entries) == set(expected)
    for loc, entry in entries.items():
        page = expected[loc]
        assert entry.findtext("sm:lastmod", namespaces=SITEMAP_NS) == (page.modified_at or page.published_at)


def test_harbourview_sitemap_uses_google_news_extension(site):
    entries = sitemap_entries(site, "harbourview")
    for page in (p for p in DATED if p.outlet == "harbourview"):
        news = entries[site.url(page)].find("news:news", SITEMAP_NS)
        assert news.findtext("news:publication/news:name", namespaces=SITEMAP_NS) == "The Harbourview Gazette"
        assert news.findtext("news:publication_date", namespaces=SITEMAP_NS) == page.published_at
        assert news.findtext("news:title", namespaces=SITEMAP_NS) == page.title


def test_northfield_sitemap_is_an_index_of_monthly_urlsets(site):
    root = etree.fromstring(fetch(outlet_of(site, "northfield")["sitemaps"][0]).body)
    children = root.xpath("sm:sitemap/sm:loc/text()", namespaces=SITEMAP_NS)
    assert root.tag == "{%s}sitemapindex" % SITEMAP_NS["sm"]
    assert len(children) >= 2
    assert all(re.search(r"/sitemap-\d{4}-\d{2}\.xml$", child) for child in children)
    assert len(root.xpath("sm:sitemap/sm:lastmod", namespaces=SITEMAP_NS)) == len(children)


def test_out_of_window_article_is_listed_only_in_the_sitemap(site):
    outside = [page for page in ARTICLES if not page.in_window]
    assert len(outside) == 1 and outside[0].on_topic
    url = site.url(outside[0])
    assert url in all_sitemap_links(site)
    assert url not in all_feed_links(site) | all_seeds(site)
    assert outside[0].path not in fetch(outlet_of(site, outside[0].outlet)["homepage"]).text


@pytest.mark.parametrize("outlet_id", OUTLET_IDS)
def test_robots_txt_disallows_private(site, outlet_id):
    outlet = outlet_of(site, outlet_id)
    fetched = fetch(outlet["homepage"] + "robots.txt")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetched.text.splitlines())
    assert fetched.content_type == "text/plain; charset=utf-8"
    assert not robots.can_fetch("clippings", outlet["homepage"] + "private/anything/")
    assert robots.can_fetch("clippings", outlet["homepage"])
    assert robots.site_maps() == outlet["sitemaps"]


# Redirect, missing, pdf, private -------------------------------------------------------------


@pytest.mark.parametrize("page", [p for p in PAGES if p.kind == "redirect"], ids=page_id)
def test_redirect_answers_301_with_location(site, page):
    fetched = fetch(site.url(page))
    assert page.path.startswith("/old/")
    assert fetched.status == 301
    assert fetched.location == site.url(page)[: -len(page.path)] + page.redirect_to


@pytest.mark.parametrize("page", [p for p in PAGES if p.kind == "missing"], ids=page_id)
def test_missing_page_answers_404_with_html(site, page):
    fetched = fetch(site.url(page))
    assert fetched.status == 404
    assert fetched.content_type == "text/html; charset=utf-8"
    assert fetched.text.startswith("<!DOCTYPE html>")


def test_unknown_path_answers_404(site):
    for outlet in site.outlets:
        assert fetch(outlet["homepage"] + "no/such/page/").status == 404


@pytest.mark.parametrize("page", [p for p in PAGES if p.kind == "pdf"], ids=page_id)
def test_pdf_answers_application_pdf_with_valid_xref(site, page):
    fetched = fetch(site.url(page))
    body = fetched.body
    start_xref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", body).group(1))
    entries = re.findall(rb"(\d{10}) 00000 n ", body[start_xref:])
    assert fetched.status == 200 and fetched.content_type == "application/pdf"
    assert body.startswith(b"%PDF-1.") and body[start_xref:].startswith(b"xref")
    for number, offset in enumerate(entries, start=1):
        assert body[int(offset) :].startswith(b"%d 0 obj" % number)


def test_pdf_is_linked_from_an_article(site):
    pdfs = {page.path for page in PAGES if page.kind == "pdf"}
    linked = {path for page in ARTICLES for path in page.attachments}
    assert pdfs and pdfs == linked


def test_private_page_is_a_seed_that_robots_txt_forbids(site):
    private = [page for page in PAGES if page.kind == "private"]
    assert len(private) == 1 and private[0].path.startswith("/private/")
    assert site.url(private[0]) in all_seeds(site)


def test_seeds_cover_every_special_page(site):
    seeds = all_seeds(site)
    special = [page for page in PAGES if page.kind in ("redirect", "missing", "pdf", "private")]
    assert all(site.url(page) in seeds for page in special)
    assert all(outlet["homepage"] in outlet["seeds"] for outlet in site.outlets)
    assert len([page for page in DATED if site.url(page) in seeds]) >= 2


# Ground truth invariants ---------------------------------------------------------------------


def test_pages_paths_are_unique_per_outlet():
    keys = [page_id(page) for page in PAGES]
    assert len(keys) == len(set(keys))
    assert all(page.path.startswith("/") for page in PAGES)


def test_pages_count_articles_on_and_off_topic():
    assert len(PAGES) >= 34
    assert len([page for page in ARTICLES if page.on_topic]) >= 22
    assert len(OFF_TOPIC) >= 6
    assert {page.outlet for page in OFF_TOPIC} >= {"harbourview", "northfield", "pacificwire"}


def test_pages_have_one_index_page_per_section_and_a_front_page():
    for outlet_id in OUTLET_IDS:
        indexes = [page for page in PAGES if page.outlet == outlet_id and page.kind == "index"]
        assert "/" in {page.path for page in indexes} and len(indexes) >= 2


def test_pages_have_exactly_one_copy_with_identical_paragraphs(site):
    copies = [page for page in PAGES if page.copy_of]
    assert len(copies) == 1
    copy = copies[0]
    original = next(page for page in PAGES if page_id(page) == copy.copy_of)
    assert (copy.title, copy.body) == (original.title, original.body)
    assert copy.outlet != original.outlet and copy.byline != original.byline
    assert dt.date.fromisoformat(copy.published) - dt.date.fromisoformat(original.published) == dt.timedelta(days=1)
    assert [p.text_content() for p in parsed(site, copy).iter("p") if p.text_content() in copy.body] == list(copy.body)


@pytest.mark.parametrize("page", OFF_TOPIC, ids=page_id)
def test_off_topic_page_contains_no_topic_strings(site, page):
    served = html.unescape(fetch(site.url(page)).text).lower()
    written = " ".join((page.title or "",) + page.body).lower()
    for text in (written, served):
        assert [s for s in TOPIC_STRINGS if s in text] == []
        assert [name for name in TOPIC_PEOPLE if name.lower() in text] == []


def test_every_article_is_reachable_from_feed_sitemap_or_seed(site):
    reachable = all_feed_links(site) | all_sitemap_links(site) | all_seeds(site)
    assert [page_id(page) for page in ARTICLES if site.url(page) not in reachable] == []


def test_undated_article_is_reachable_only_as_a_seed(site):
    undated = next(page for page in ARTICLES if page.published is None)
    url = site.url(undated)
    assert undated.on_topic and undated.in_window
    assert url in all_seeds(site)
    assert url not in all_feed_links(site) | all_sitemap_links(site)
    assert all(undated.path not in fetch(site.url(page)).text for page in HTML_PAGES if page != undated)


def test_pages_cover_milano_tweet_from_three_outlets():
    outlets = {
        page.outlet
        for page in ARTICLES
        if page.on_topic
        and "2017-10-15" <= (page.published or "") <= "2017-10-22"
        and "Alyssa Milano" in " ".join(page.body)
        and "tweet" in " ".join(page.body)
    }
    assert len(outlets) >= 3


@pytest.mark.parametrize("page", ARTICLES, ids=page_id)
def test_article_body_has_150_to_300_words(page):
    assert 150 <= sum(len(paragraph.split()) for paragraph in page.body) <= 300
    assert len(page.body) >= 3


def test_article_dates_spread_over_the_core_months():
    inside = [page.published for page in DATED if page.in_window]
    assert min(inside) >= "2017-10-05" and max(inside) <= "2017-12-31"
    assert {published[:7] for published in inside} == {"2017-10", "2017-11", "2017-12"}


@pytest.mark.parametrize("page", DATED, ids=page_id)
def test_published_at_uses_the_outlets_local_offset(page):
    moment = dt.datetime.fromisoformat(page.published_at)
    assert moment.utcoffset() == moment.astimezone(ZoneInfo(OUTLET_ZONES[page.outlet])).utcoffset()
    assert page.published == moment.date().isoformat()


def test_pages_in_window_follows_the_published_date():
    for page in PAGES:
        expected = page.published is None or "2017-10-01" <= page.published <= "2018-01-31"
        assert page.in_window == expected


def test_pages_non_articles_carry_no_article_truth():
    for page in PAGES:
        if page.kind != "article":
            assert (page.title, page.published, page.on_topic) == (None, None, False)
    assert all(page.redirect_to for page in PAGES if page.kind == "redirect")


def _broken_copy(tmp_path: Path, change) -> Path:
    document = yaml.safe_load(PAGES_FILE.read_text(encoding="utf-8"))
    change(document["pages"])
    broken = tmp_path / "pages.yml"
    broken.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return broken


BREAKAGES = {
    "duplicate path": lambda pages: pages.append(dict(pages[4])),
    "redirect to nowhere": lambda pages: next(page for page in pages if page["kind"] == "redirect").update(redirect_to="/gone/"),
    "copy of nothing": lambda pages: next(page for page in pages if page.get("copy_of")).update(copy_of="harbourview:/gone/"),
    "timestamp without offset": lambda pages: pages[4].update(published_at="2017-10-05T21:10:00"),
    "unknown kind": lambda pages: pages[4].update(kind="video"),
}


@pytest.mark.parametrize("change", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_load_pages_rejects_broken_truth(tmp_path, change):
    with pytest.raises(InvalidPages):
        load_pages(_broken_copy(tmp_path, change))


def test_load_pages_accepts_its_own_file_round_tripped(tmp_path):
    assert load_pages(_broken_copy(tmp_path, lambda pages: None)) == PAGES
