"""The wayback spider end to end: a real `scrapy crawl` through pywb (and through a stand-in for the
Wayback Machine's own CDX dialect) into a temporary archive."""

import json

import pytest
import yaml

from crawlers.jobstate import JobState

from .conftest import rows, run_clippings, scrapy_crawl
from .sites import Site, Wayback
from .webarchives import NORTHFIELD, TOPIC, all_pages, archived_warcs, expected_articles, pywb_archive  # noqa: F401 (fixtures)


def pywb_settings(pywb) -> list[str]:
    return [
        "-s",
        f"WAYBACK_CDX_URL={pywb.url}/archive/cdx",
        "-s",
        f"WAYBACK_REPLAY_URL={pywb.url}/archive/{{timestamp}}id_/{{url}}",
    ]


def crawl_pywb(pywb, tmp_path, *args):
    return scrapy_crawl("wayback", tmp_path, TOPIC, *pywb_settings(pywb), *args)


def test_wayback_keeps_the_windows_articles_under_their_original_urls(pywb_archive, tmp_path):
    db, log = crawl_pywb(pywb_archive, tmp_path)
    articles = rows(db, "SELECT url, source FROM articles")
    assert {url for url, _ in articles} == expected_articles()
    assert {source for _, source in articles} == {"wayback"}
    assert "'clippings/articles_added': 3" in log


def test_wayback_records_capture_time_and_replay_url(pywb_archive, tmp_path):
    db, _ = crawl_pywb(pywb_archive, tmp_path)
    url = f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"
    [(final_url, source, archived_at, record_file)] = rows(
        db, "SELECT final_url, source, archived_at, record_file FROM captures WHERE url = ?", (url,)
    )
    assert (final_url, source, archived_at) == (url, "wayback", "2017-10-16T12:00:00+00:00")
    assert record_file.startswith(f"{pywb_archive.url}/archive/") and record_file.endswith(f"id_/{url}")


def test_wayback_rejects_off_topic_and_out_of_window_pages_with_reasons(pywb_archive, tmp_path):
    db, _ = crawl_pywb(pywb_archive, tmp_path)
    reasons = dict(rows(db, "SELECT url, reason FROM rejects"))
    for page in all_pages():
        if page.outcome == "outside window":
            assert reasons[page.url].startswith("outside the window"), reasons
        elif page.outcome == "off-topic":
            assert page.url in reasons and not reasons[page.url].startswith("outside")


def test_wayback_skips_non_articles_and_captures_outside_the_window(pywb_archive, tmp_path):
    db, log = crawl_pywb(pywb_archive, tmp_path)
    captured = {url for (url,) in rows(db, "SELECT url FROM captures")}
    skipped = {p.url for p in all_pages() if p.outcome == "skipped"} - expected_articles()
    assert not captured & skipped  # tag page, front page, logo, the September article
    assert "'clippings/captures_not_article_urls'" in log
    assert rows(db, "SELECT count(*) FROM captures WHERE archived_at >= '2018'") == [(0,)]


def test_wayback_carries_listing_dates_from_archived_feeds_and_sitemaps(pywb_archive, tmp_path):
    db, log = crawl_pywb(pywb_archive, tmp_path)
    candidates = {
        url: {c["source"] for c in json.loads(dates)} for url, dates in rows(db, "SELECT url, date_candidates FROM articles")
    }
    assert "feed" in candidates[f"{NORTHFIELD}/news/a-survivors-account/"]
    assert "sitemap" in candidates["https://harbourview-post.example/2017/10/17/mcgowan-statement/"]
    assert "'clippings/listing_entries_outside_window': 1" in log  # the feed's September entry


def test_wayback_rerun_adds_nothing_twice(pywb_archive, tmp_path):
    db, _ = crawl_pywb(pywb_archive, tmp_path)
    tables = ("articles", "captures", "capture_bodies", "rejects", "mentions")
    before = {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables}
    db, log = crawl_pywb(pywb_archive, tmp_path)
    assert {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables} == before
    assert "articles_added" not in log.split("Dumping Scrapy stats")[-1]


def test_wayback_urls_file_limits_the_crawl_to_its_patterns(pywb_archive, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# one pattern per line\n{NORTHFIELD}/2017/*\n")
    db, _ = crawl_pywb(pywb_archive, tmp_path, "-a", f"urls={urls}")
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == {f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"}


def test_wayback_keywords_required_drops_slugs_without_them(pywb_archive, tmp_path):
    db, log = crawl_pywb(pywb_archive, tmp_path, "-s", "ARCHIVE_URL_KEYWORDS_REQUIRED=True")
    urls = {url for (url,) in rows(db, "SELECT url FROM articles")}
    # The survivor's account still arrives through the archived feed; the domain listing alone
    # would have dropped it.
    assert f"{NORTHFIELD}/news/a-survivors-account/" in urls
    assert f"{NORTHFIELD}/2017/10/18/council-budget-vote-delayed/" not in {u for (u,) in rows(db, "SELECT url FROM captures")}


@pytest.mark.slow
def test_wayback_machine_dialect_with_pages_resume_keys_and_429(tmp_path):
    with Site(fallback=Wayback(all_pages(), retry_after=2)) as archive:
        db, log = scrapy_crawl(
            "wayback",
            tmp_path,
            TOPIC,
            "-s",
            f"WAYBACK_CDX_URL={archive.url()}/cdx/search/cdx",
            "-s",
            f"WAYBACK_REPLAY_URL={archive.url()}/web/{{timestamp}}id_/{{url}}",
        )
        requests = archive.fallback.cdx_requests
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == expected_articles()
    refused_at, refused = requests[0]
    retried_at = next(at for at, params in requests[1:] if params == refused)
    assert retried_at - refused_at >= 2  # the 429's Retry-After was honoured
    assert any("page" in params for _, params in requests)
    assert any("resumeKey" in params for _, params in requests)
    assert all(params["fl"] == ["urlkey,timestamp,original,mimetype,statuscode"] for _, params in requests if "page" in params)


@pytest.mark.slow
def test_wayback_429_without_retry_after_backs_off(tmp_path):
    with Site(fallback=Wayback(all_pages(), retry_after=0)) as archive:
        db, log = scrapy_crawl(
            "wayback",
            tmp_path,
            TOPIC,
            "-s",
            f"WAYBACK_CDX_URL={archive.url()}/cdx/search/cdx",
            "-s",
            f"WAYBACK_REPLAY_URL={archive.url()}/web/{{timestamp}}id_/{{url}}",
            "-s",
            "RETRY_AFTER_DEFAULT=1.5",
        )
        requests = archive.fallback.cdx_requests
    refused_at, refused = requests[0]
    retried_at = next(at for at, params in requests[1:] if params == refused)
    assert retried_at - refused_at >= 1.5
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == expected_articles()


def test_clippings_crawl_wayback_passes_settings_through(pywb_archive, tmp_path):
    topic = tmp_path / "topic.yml"
    topic.write_text(TOPIC)
    db = tmp_path / "archive.db"
    settings = [
        f"WAYBACK_CDX_URL={pywb_archive.url}/archive/cdx",
        f"WAYBACK_REPLAY_URL={pywb_archive.url}/archive/{{timestamp}}id_/{{url}}",
        "ALLOWED_PRIVATE_NETWORKS=127.0.0.1/32",
        "DOWNLOAD_DELAY=0",
        "AUTOTHROTTLE_ENABLED=False",
    ]
    result = run_clippings(
        "crawl", "wayback", "--topic", str(topic), "--db", str(db), *[arg for s in settings for arg in ("-s", s)]
    )
    assert result.returncode == 0, result.stderr
    assert "3 articles" in result.stdout
    assert "warning" not in result.stderr


def test_wayback_topic_prefixes_replace_domain_queries(pywb_archive, tmp_path):
    topic = yaml.safe_load(TOPIC)
    topic["outlets"][0]["archive_prefixes"] = [f"{NORTHFIELD}/news/"]
    topic["outlets"][0]["feeds"] = []
    db, _ = scrapy_crawl("wayback", tmp_path, yaml.safe_dump(topic), *pywb_settings(pywb_archive))
    northfield = {url for (url,) in rows(db, "SELECT url FROM captures WHERE outlet_id = 'northfield'")}
    assert northfield == {f"{NORTHFIELD}/news/a-survivors-account/"}


def test_wayback_resumed_crawl_skips_urls_the_killed_run_archived(pywb_archive, tmp_path):
    done = f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"
    state = JobState(tmp_path / "job.sqlite")
    state.start("20171101T000000Z-wayback-0000")
    state.finish_urls([done])
    state.close()
    db, log = crawl_pywb(pywb_archive, tmp_path, "-s", f"JOB_STATE_PATH={tmp_path / 'job.sqlite'}")
    assert "Resuming crawl run 20171101T000000Z-wayback-0000" in log
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == expected_articles() - {done}
