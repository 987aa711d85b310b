"""Takedowns: `clippings takedown add` removes every record a pattern covers, and crawls never capture them again."""

import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from clippings.cli import main

from .conftest import scrapy_crawl
from .sites import DAY, Answer, article_html, html, page, site_with_sitemap

PHRASE = "Story survivor-named-here."
ROUTES = {
    f"/{DAY}/named/": page(html(article_html("survivor-named-here"))),
    f"/{DAY}/other/": page(html(article_html("other"))),
    f"/{DAY}/original/": page(html(article_html("syndicated"))),
    "/wire/syndicated-copy/": page(html(article_html("syndicated", published="2017-10-18"))),
    "/misc/empty/": page(Answer(200, b"")),
    "/misc/gone/": page(Answer(410, b"gone")),
}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def urls(db, table):
    conn = sqlite3.connect(db)
    try:
        return {url for (url,) in conn.execute(f"SELECT url FROM {table}")}  # table names from the tests only
    finally:
        conn.close()


@pytest.fixture(scope="module")
def site():
    with site_with_sitemap(ROUTES) as running:
        yield running


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("takedown")
    db, log = scrapy_crawl("sitemaps", tmp_path, site.topic())
    assert len(urls(db, "articles")) == 3 and len(urls(db, "copies")) == 1
    return db


@pytest.fixture
def archive(crawled, tmp_path):
    """A fresh copy of the crawled archive, with the crawl's topic, for one test to change."""
    shutil.copy(crawled, tmp_path / "archive.db")
    return tmp_path / "archive.db"


def take_down(db, pattern, *args):
    result = invoke("takedown", "add", pattern, "--reason", "survivor asked, 2026-11-20", "--db", db, *args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_takedown_removes_the_article_its_capture_and_its_search_entry(site, archive):
    url = site.url(f"/{DAY}/named/")
    take_down(archive, url)
    conn = sqlite3.connect(archive)
    assert conn.execute("SELECT count(*) FROM captures WHERE url = ?", (url,)).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'survivor'").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM mentions WHERE article_id NOT IN (SELECT id FROM articles)").fetchone() == (0,)
    conn.close()
    # articles are kept under their canonical URL, the one the site serves; the capture ties them to the pattern
    assert urls(archive, "articles") == {site.url(f"/{DAY}/other/"), site.url(f"/{DAY}/original/")}


@pytest.mark.slow
def test_takedown_leaves_no_trace_in_the_file(site, archive):
    assert PHRASE.encode() in archive.read_bytes()
    take_down(archive, site.url(f"/{DAY}/named/"))
    assert PHRASE.encode() not in archive.read_bytes()


@pytest.mark.slow
def test_takedown_of_an_article_takes_its_copies_and_their_captures(site, archive):
    take_down(archive, site.url(f"/{DAY}/original/"))
    assert urls(archive, "copies") == set()
    assert site.url("/wire/syndicated-copy/") not in urls(archive, "captures")


@pytest.mark.slow
def test_takedown_pattern_covers_rejects_and_failures(site, archive):
    output = take_down(archive, site.url("/misc/*"))  # empty/ and gone/, not the articles
    assert "1 rejects" in output and "1 fetch_failures" in output
    assert urls(archive, "rejects") == set() and urls(archive, "fetch_failures") == set()
    assert len(urls(archive, "articles")) == 3


@pytest.mark.slow
def test_taken_down_url_is_not_captured_again(site, archive, tmp_path):
    url = site.url(f"/{DAY}/named/")
    take_down(archive, url)
    scrapy_crawl("sitemaps", tmp_path, site.topic())
    assert all(url not in urls(archive, table) for table in ("captures", "articles", "rejects", "fetch_failures"))
    assert site.url(f"/{DAY}/other/") in urls(archive, "articles")


@pytest.mark.slow
def test_takedown_apply_removes_what_a_listed_pattern_covers_again(site, archive, crawled):
    url = site.url(f"/{DAY}/named/")
    take_down(archive, url)
    conn = sqlite3.connect(archive)
    conn.execute("ATTACH ? AS crawled", (str(crawled),))  # as if a running crawl stored it again
    conn.execute("INSERT INTO captures SELECT * FROM crawled.captures WHERE url = ?", (url,))
    conn.commit()
    conn.close()
    result = invoke("takedown", "apply", "--db", archive)
    assert result.output == "Takedowns applied; removed 1 captures.\n"
    assert url not in urls(archive, "captures")


@pytest.mark.slow
def test_takedown_list_shows_date_pattern_and_reason(site, archive):
    take_down(archive, site.url("/misc/gone/"), "--date", "2026-11-20")
    result = invoke("takedown", "list", "--db", archive)
    assert result.output == f"2026-11-20\t{site.url('/misc/gone/')}\tsurvivor asked, 2026-11-20\t1\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["*"], "must start with http:// or https:// and a host name"),
        (["http://*"], "must start with http:// or https:// and a host name"),
        (["https://e.example/x", "--db", "{d}/missing.db"], "no archive at"),
    ],
)
def test_takedown_user_mistakes_get_one_clear_sentence(tmp_path, args, message):
    result = invoke("takedown", "add", *[a.format(d=tmp_path) for a in args], "--reason", "r")
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_takedown_twice_is_refused_and_changes_nothing(site, archive):
    url = site.url("/misc/gone/")
    take_down(archive, url)
    result = invoke("takedown", "add", url, "--reason", "again", "--db", archive)
    assert result.exit_code == 1 and "already listed" in result.output


@pytest.mark.slow
def test_takedown_of_a_story_lead_passes_the_story_on(site, archive):
    """The fixture's near-identical articles share one story; its lead can be taken down, and
    the story then has a lead that still exists."""
    conn = sqlite3.connect(archive)
    lead, members = conn.execute("SELECT story_id, count(*) FROM articles GROUP BY story_id ORDER BY count(*) DESC").fetchone()
    lead_url = conn.execute("SELECT url FROM articles WHERE id = ?", (lead,)).fetchone()[0]
    conn.close()
    assert members > 1, "the fixture's articles should form a story"
    take_down(archive, lead_url)
    conn = sqlite3.connect(archive)
    orphans = conn.execute("SELECT count(*) FROM articles WHERE story_id NOT IN (SELECT id FROM articles)").fetchone()[0]
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    assert orphans == 0
    assert articles == 2  # three crawled, the lead taken down
