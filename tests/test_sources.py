"""The same pages from every web-archive source: a Wayback crawl (pywb), a Common Crawl crawl (pywb
as the index, WARC records by Range request) and an import of the WARC files give the same
articles, each tagged with its source; in one archive the coverage report shows all three, and
running any of them again adds nothing."""

import pytest
from click.testing import CliRunner

from clippings.cli import main
from pipelines.store.archive import Archive
from pipelines.store.coverage import coverage

from .conftest import rows, scrapy_crawl
from .sites import Files, Site
from .webarchives import TOPIC, archived_warcs, copy_warcs, expected_articles, pywb_archive  # noqa: F401 (fixtures)

ARTICLES = "SELECT url, title, text, published_at, published_source, outlet_id FROM articles ORDER BY url"
COUNTED = ("articles", "copies", "captures", "capture_bodies", "rejects", "mentions", "keyword_matches")


@pytest.fixture(scope="module")
def data_server(tmp_path_factory, archived_warcs):
    folder = copy_warcs(tmp_path_factory.mktemp("data"), list(archived_warcs.values()))
    with Site(fallback=Files(folder)) as server:
        yield server


def wayback(pywb, folder):
    return scrapy_crawl(
        "wayback",
        folder,
        TOPIC,
        "-s",
        f"WAYBACK_CDX_URL={pywb.url}/archive/cdx",
        "-s",
        f"WAYBACK_REPLAY_URL={pywb.url}/archive/{{timestamp}}id_/{{url}}",
    )[0]


def commoncrawl(pywb, data, folder):
    return scrapy_crawl(
        "commoncrawl",
        folder,
        TOPIC,
        "-s",
        f"COMMONCRAWL_INDEX_URL={pywb.url}/{{crawl}}/cdx",
        "-s",
        f"COMMONCRAWL_DATA_URL={data.url()}/",
        "-s",
        "COMMONCRAWL_CRAWLS=CC-MAIN-2017-43,CC-MAIN-2017-47",
    )[0]


def warc_import(warcs, folder):
    topic, db = folder / "topic.yml", folder / "archive.db"
    topic.write_text(TOPIC)
    result = CliRunner().invoke(
        main,
        ["import", *map(str, warcs.values()), "--topic", str(topic), "--db", str(db), "--workers", "0"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return db


def counts(db):
    return {table: rows(db, f"SELECT count(*) FROM {table}")[0][0] for table in COUNTED}


def test_every_archive_source_gives_the_same_articles(pywb_archive, data_server, archived_warcs, tmp_path):
    folders = {name: tmp_path / name for name in ("wayback", "commoncrawl", "warc")}
    for folder in folders.values():
        folder.mkdir()
    archives = {
        "wayback": wayback(pywb_archive, folders["wayback"]),
        "commoncrawl": commoncrawl(pywb_archive, data_server, folders["commoncrawl"]),
        "warc": warc_import(archived_warcs, folders["warc"]),
    }
    found = {source: rows(db, ARTICLES) for source, db in archives.items()}
    assert {url for url, *_ in found["warc"]} == expected_articles()
    assert found["wayback"] == found["commoncrawl"] == found["warc"]
    for source, db in archives.items():
        assert rows(db, "SELECT DISTINCT source FROM articles") == [(source,)]


def test_one_archive_from_every_source_shows_each_in_the_coverage(pywb_archive, data_server, archived_warcs, tmp_path):
    db = wayback(pywb_archive, tmp_path)
    commoncrawl(pywb_archive, data_server, tmp_path)
    warc_import(archived_warcs, tmp_path)
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == expected_articles()
    assert rows(db, "SELECT DISTINCT source FROM captures ORDER BY source") == [("commoncrawl",), ("warc",), ("wayback",)]

    archive = Archive(db, create=False)
    try:
        report = coverage(archive)
    finally:
        archive.close()
    seen = {source: 0 for source in ("wayback", "commoncrawl", "warc")}
    for outlet in report:
        for by_source in outlet.days.values():
            for source, articles in by_source.items():
                seen[source] += articles
    assert seen == {source: len(expected_articles()) for source in seen}

    before = counts(db)
    wayback(pywb_archive, tmp_path)
    commoncrawl(pywb_archive, data_server, tmp_path)
    warc_import(archived_warcs, tmp_path)
    assert counts(db) == before
