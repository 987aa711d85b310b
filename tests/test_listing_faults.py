"""Listings that cannot be read whole, end to end through `scrapy crawl`: what was read is followed,
the rest is a fetch failure with its reason (never silently dropped), and nested sitemap indexes
stop at SITEMAP_MAX_DEPTH."""

import gzip
import signal
import sqlite3
import subprocess
import time

import pytest
import yaml

from .conftest import PROJECT_ROOT, SCRAPY_ENV, scrapy_crawl
from .sites import DAY, Answer, Site, article_html, html, kill_group, page, site_with_sitemap
from .test_listings import BILLION_LAUGHS
from .test_resume import crawl, crawl_command, snapshot

pytestmark = pytest.mark.slow

STORIES = [f"/{DAY}/story-{n}/" for n in range(6)]
ROUTES = {path: page(html(article_html(path))) for path in STORIES}


def urlset(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'


def index(urls: list[str]) -> Answer:
    entries = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in urls)
    body = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    return Answer(200, body.encode(), (("Content-Type", "application/xml"),))


def xml(body: bytes) -> Answer:
    return Answer(200, body, (("Content-Type", "application/xml"),))


def laughing_sitemap(site: Site) -> Answer:
    """Four stories, then an entity that expands a billion times, then two stories more."""
    body = BILLION_LAUGHS.decode()
    for number, path in enumerate(STORIES):
        body = body.replace(f"https://g.example/{number + 1}<", f"{site.url(path)}<")
    body = body.replace("</urlset>", "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in STORIES[4:]) + "</urlset>")
    return xml(body.encode())


def failures(db) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT url, error FROM fetch_failures"))
    finally:
        conn.close()


def articles(db) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {url for (url,) in conn.execute("SELECT c.url FROM articles a JOIN captures c ON c.id = a.capture_id")}
    finally:
        conn.close()


def with_sitemaps(site: Site, paths: list[str], feeds: list[str] = ()) -> str:
    topic = yaml.safe_load(site.topic())
    topic["outlets"][0]["sitemaps"] = [site.url(p) for p in paths]
    topic["outlets"][0]["feeds"] = [site.url(p) for p in feeds]
    return yaml.safe_dump(topic)


def test_sitemap_past_a_parser_limit_is_followed_as_far_as_read_and_recorded(tmp_path):
    with Site(dict(ROUTES)) as site:
        site.server.routes["/sitemap.xml"] = page(laughing_sitemap(site))
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic())
    assert articles(db) == {site.url(p) for p in STORIES[:2]}
    assert failures(db) == {
        site.url("/sitemap.xml"): (
            "listing read in part (2 entries): damaged XML (Maximum entity amplification factor exceeded, see "
            "xmlCtxtSetMaxAmplification.); entries after that are missing"
        )
    }
    assert f"Read {site.url('/sitemap.xml')} in part (2 entries)" in log


def test_gzipped_sitemap_past_its_size_limit_is_recorded(tmp_path):
    body = gzip.compress(urlset([f"http://127.0.0.1:1/{DAY}/x-{n}/" for n in range(2000)]).encode())
    with Site({"/sitemap.xml.gz": page(Answer(200, body, (("Content-Type", "application/gzip"),)))}) as site:
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic("/sitemap.xml.gz"), "-s", "SITEMAP_MAX_BYTES=4096")
    error = failures(db)[site.url("/sitemap.xml.gz")]
    assert error.startswith("listing read in part (")
    assert error.endswith("it unpacks to more than SITEMAP_MAX_BYTES (4096 bytes); entries after that are missing")


def test_cut_feed_and_unreadable_listing_are_recorded(tmp_path):
    cut_feed = "<rss><channel><item><link>{}</link></item><item><link>{}</link></item><item><link>http://127.0.0.1:"
    with Site(dict(ROUTES)) as site:
        site.server.routes["/feed.xml"] = page(xml(cut_feed.format(*(site.url(p) for p in STORIES[:2])).encode()))
        site.server.routes["/news.rss"] = page(html("<html><body>We moved our feeds.</body></html>"))
        db, log = scrapy_crawl("feeds", tmp_path, with_sitemaps(site, [], ["/feed.xml", "/news.rss"]))
    found = failures(db)
    assert found[site.url("/feed.xml")].startswith("listing read in part (3 entries): damaged XML (")
    assert found[site.url("/news.rss")] == "unreadable listing: not a feed (root element <html>)"
    assert {site.url(p) for p in STORIES[:2]} <= articles(db)


def test_sitemap_indexes_nested_beyond_the_limit_are_not_fetched(tmp_path):
    with Site(dict(ROUTES)) as site:
        chain = [f"/index-{n}.xml" for n in range(4)]
        for here, below in zip(chain, chain[1:]):
            site.server.routes[here] = page(index([site.url(below), site.url(f"/urls-{here[7]}.xml")]))
            site.server.routes[f"/urls-{here[7]}.xml"] = page(xml(urlset([site.url(STORIES[int(here[7])])]).encode()))
        site.server.routes[chain[-1]] = page(xml(urlset([site.url(STORIES[5])]).encode()))
        db, log = scrapy_crawl("sitemaps", tmp_path, with_sitemaps(site, ["/index-0.xml"]), "-s", "SITEMAP_MAX_DEPTH=2")
        assert site.asked("/index-2.xml") == 1 and site.asked("/index-3.xml") == 0
    too_deep = "not fetched: a sitemap below 3 nested sitemap indexes (SITEMAP_MAX_DEPTH is 2)"
    # index-2 lists index-3 and urls-2, both at depth 3
    assert failures(db) == {site.url("/index-3.xml"): too_deep, site.url("/urls-2.xml"): too_deep}
    assert articles(db) == {site.url(STORIES[0]), site.url(STORIES[1])}


@pytest.fixture(scope="module")
def laughing_site():
    with site_with_sitemap(ROUTES) as site:
        site.server.routes["/sitemap.xml"] = page(laughing_sitemap(site))
        yield site


def killed_once_listing_failure_is_committed(site: Site, tmp_path) -> int:
    """`clippings crawl sitemaps`, SIGKILLed (with its process group) when the site is asked for
    the second story the sitemap gives, once the archive holds the sitemap's failure row (and the
    job state would, if it finished the sitemap's URL)."""
    process = subprocess.Popen(
        crawl_command(site, tmp_path, ("-s", "GROUP_COMMIT_SECONDS=0.05")),
        cwd=PROJECT_ROOT,
        env=SCRAPY_ENV,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def committed() -> None:
        for _ in range(100):
            if site.url("/sitemap.xml") in failures(tmp_path / "archive.db"):
                break
            time.sleep(0.1)
        # A row committed between groups reaches the job state at the next group's tick (50 ms).
        time.sleep(0.5)

    with site.when(lambda number, path: path == STORIES[1], kill_group(process, first=committed)):
        return process.wait(timeout=120)


def test_killed_crawl_reads_a_listing_read_in_part_again(laughing_site, tmp_path_factory):
    """The listing's failure row does not finish its URL: the resumed crawl reads it again and
    fetches the entries the killed run had not, ending as an uninterrupted crawl."""
    site = laughing_site
    reference = tmp_path_factory.mktemp("uninterrupted")
    assert crawl(site, reference) == 0
    killed = tmp_path_factory.mktemp("killed")
    assert killed_once_listing_failure_is_committed(site, killed) == -signal.SIGKILL
    assert site.url("/sitemap.xml") in failures(killed / "archive.db")
    assert crawl(site, killed) == 0
    assert snapshot(killed / "archive.db") == snapshot(reference / "archive.db")
