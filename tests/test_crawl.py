"""Spiders end to end: a real `scrapy crawl` subprocess against the demo site on 127.0.0.1."""

import sqlite3

import pytest
import yaml

from clippings.cli import demo_topic
from clippings.demo import DemoSite

from .conftest import scrapy_crawl


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


def count(db, sql, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_scrapy_crawl_seeds_with_urls_file_stays_on_its_hosts(site, tmp_path):
    page = next(p for p in site.pages if p.kind == "article" and p.on_topic and p.outlet == "harbourview" and not p.copy_of)
    other = next(o for o in site.outlets if o["id"] == "northfield")
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# one URL per line\n{site.url(page)}\n{other['homepage']}\n")
    # The file names two outlets' host:port: both are fetched, and attributed to their outlets.
    db, log = scrapy_crawl("seeds", tmp_path, demo_topic(site.outlets), "-a", f"urls={urls}")
    assert count(db, "SELECT count(*) FROM articles WHERE outlet_id = 'harbourview' AND title = ?", (page.title,)) == 1
    # the other outlet's front page holds no article: refused on its content, at extraction
    assert count(db, "SELECT count(*) FROM rejects WHERE url = ? AND stage = 'extract'", (other["homepage"],)) == 1
    assert "'clippings/articles_added': 1" in log


@pytest.mark.slow
def test_scrapy_crawl_feeds_skips_entries_outside_window(site, tmp_path):
    topic = yaml.safe_load(demo_topic(site.outlets))
    topic["window"] = {"start": "2017-10-01", "end": "2017-10-15"}
    db, log = scrapy_crawl("feeds", tmp_path, yaml.safe_dump(topic))
    assert count(db, "SELECT count(*) FROM articles WHERE published_day > '2017-10-15'") == 0
    assert "'clippings/listing_entries_outside_window'" in log


@pytest.mark.slow
def test_scrapy_crawl_unknown_domain_is_not_fetched(site, tmp_path):
    topic = yaml.safe_load(demo_topic(site.outlets))
    topic["outlets"][0]["seeds"] = ["http://example.invalid/2017/10/16/story/"]
    topic["outlets"] = topic["outlets"][:1]
    db, log = scrapy_crawl("seeds", tmp_path, yaml.safe_dump(topic))
    assert count(db, "SELECT count(*) FROM captures") == 0
    assert (
        count(db, "SELECT error FROM fetch_failures WHERE url = 'http://example.invalid/2017/10/16/story/'")
        == "not fetched: outside the crawl's domains (example.invalid)"
    )
