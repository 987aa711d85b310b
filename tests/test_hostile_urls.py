"""Pages that declare a link to run (javascript:, data:, vbscript: ...) as their address: a real
crawl stores every article under an http(s) URL, and every other URL only as text."""

import sqlite3
from contextlib import closing

import pytest

from pipelines.core.canonical import web_url

from .conftest import THRESHOLDS, scrapy_crawl
from .sites import DAY, article_html, html, page, redirect, sitemap

# How a hostile page spells a script as its canonical URL (or og:url); {host} is the site's
# host:port, which makes the URL "same site" to a check that compares hosts only.
DECLARED = {
    "canonical-javascript": '<link rel="canonical" href="javascript://{host}/%0Afetch(%22/pwned%22)">',
    "canonical-mixed-case": '<link rel="canonical" href="JaVaScRiPt://{host}/%0Afetch(%22/pwned%22)">',
    "canonical-entities": '<link rel="canonical" href="&#106;avascript&#58;//{host}/%0Afetch(%22/pwned%22)">',
    "canonical-tab": '<link rel="canonical" href="java&#9;script://{host}/%0Afetch(%22/pwned%22)">',
    "canonical-control": '<link rel="canonical" href="&#1;javascript://{host}/%0Afetch(%22/pwned%22)">',
    "canonical-spaces": '<link rel="canonical" href="  javascript://{host}/%0Afetch(%22/pwned%22)  ">',
    "canonical-vbscript": '<link rel="canonical" href="vbscript://{host}/%0Amsgbox(1)">',
    "canonical-data": '<link rel="canonical" href="data://{host}/text/html,%3Cscript%3Efetch(%22/pwned%22)%3C/script%3E">',
    "og-url-javascript": '<meta property="og:url" content="javascript://{host}/%0Afetch(%22/pwned%22)">',
}


def hostile_page(name: str, host: str) -> str:
    return article_html(name).replace("</head>", DECLARED[name].format(host=host) + "</head>")


def urls_in(db, sql: str) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [url for (url,) in conn.execute(sql)]


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    from .sites import Site

    with Site({}) as site:
        routes = site.server.routes
        for name in DECLARED:
            routes[f"/{DAY}/{name}/"] = page(html(hostile_page(name, site.netloc)))
        routes[f"/{DAY}/to-javascript/"] = redirect(f"javascript://{site.netloc}/%0Afetch(%22/pwned%22)")
        listed = [site.url(f"/{DAY}/{name}/") for name in DECLARED] + [
            site.url(f"/{DAY}/to-javascript/"),
            f"javascript://{site.netloc}/%0Afetch(%22/pwned%22)",
        ]
        routes["/sitemap.xml"] = page(sitemap(listed))
        db, log = scrapy_crawl("sitemaps", tmp_path_factory.mktemp("hostile-urls"), site.topic())
        yield site, db


@pytest.mark.parametrize("name", DECLARED)
@pytest.mark.slow
def test_hostile_declared_url_leaves_the_article_at_its_own_address(hostile_crawl, name):
    site, db = hostile_crawl
    assert site.url(f"/{DAY}/{name}/") in urls_in(db, "SELECT url FROM articles")


@pytest.mark.slow
def test_hostile_urls_never_become_article_or_copy_links(hostile_crawl):
    site, db = hostile_crawl
    stored = urls_in(db, "SELECT url FROM articles UNION ALL SELECT url FROM copies")
    assert stored and all(web_url(url) for url in stored), stored


@pytest.mark.slow
def test_hostile_listed_and_redirect_urls_are_failures_with_their_reason(hostile_crawl):
    site, db = hostile_crawl
    with closing(sqlite3.connect(db)) as conn:
        failures = dict(conn.execute("SELECT url, error FROM fetch_failures"))
    assert "scheme 'javascript' is not fetched" in failures[f"javascript://{site.netloc}/%0Afetch(%22/pwned%22)"]
    assert "javascript:" in failures[site.url(f"/{DAY}/to-javascript/")]
    assert site.asked("/pwned") == 0


@pytest.mark.parametrize(
    "address", ["javascript://web.archive.example/%0Aalert(1)", "data:text/html,<script>alert(1)</script>", "http://[::1/broken"]
)
def test_page_whose_own_url_is_not_http_is_rejected_before_extraction(address):
    """A web archive names the original URL of a capture: it may name a script."""
    from pipelines.core.analysis import Rejected, extract_page
    from pipelines.core.items import FetchedPage

    archived = FetchedPage(
        url=address,
        final_url=address,
        status=200,
        headers={"content-type": ["text/html"]},
        body=article_html("archived").encode(),
        fetched_at="2017-10-17T00:00:00+00:00",
        spider="wayback",
        crawl_run_id="run",
    )
    with pytest.raises(Rejected, match="not a web page"):
        extract_page(archived, THRESHOLDS)
