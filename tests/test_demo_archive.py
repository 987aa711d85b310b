"""The demo archive, built by the real CLI through real `scrapy crawl`s, checked against the demo site's truth."""

import json
import sqlite3
from collections import Counter

import pytest

from clippings.demo import load_pages

from .conftest import run_clippings

ARTICLES = [p for p in load_pages() if p.kind == "article"]
ORIGINALS = [p for p in ARTICLES if p.on_topic and p.in_window and not p.copy_of]


def rows(db, sql, params=()):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def archived_path(url: str) -> str:
    """The demo site's path of an archived URL (ports differ between runs)."""
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"


@pytest.fixture(scope="module")
def articles(demo_archive):
    return rows(demo_archive, "SELECT a.*, o.id AS outlet FROM articles a LEFT JOIN outlets o ON o.id = a.outlet_id")


def test_demo_every_on_topic_article_once_with_outlet_title_day(articles):
    found = Counter((a["outlet"], a["title"]) for a in articles)
    for page in ORIGINALS:
        assert found[(page.outlet, page.title)] == 1, (
            f"{page.outlet}:{page.path} ({page.title}) archived {found[(page.outlet, page.title)]} times"
        )
        (article,) = [a for a in articles if a["outlet"] == page.outlet and a["title"] == page.title]
        assert article["published_day"] == page.published, page.path
        assert archived_path(article["url"]).rstrip("/") == page.path.rstrip("/")


def test_demo_archive_holds_only_true_articles(articles):
    assert len(articles) == len(ORIGINALS)


def test_demo_undated_article_is_marked_undated(articles):
    undated = [p for p in ORIGINALS if p.published is None]
    assert undated, "the demo site should have an undated article"
    for page in undated:
        (article,) = [a for a in articles if a["title"] == page.title]
        assert article["published_at"] is None and article["published_source"] == "undated"


def test_demo_dates_never_come_from_the_crawl(articles):
    assert all(a["published_source"] != "crawl" for a in articles)
    assert {a["published_source"] for a in articles} - {"undated"}, "some articles should be dated"


def test_demo_off_topic_and_non_articles_are_rejects_not_articles(demo_archive, articles):
    titles = {a["title"] for a in articles}
    off_topic = [p for p in ARTICLES if not p.on_topic]
    assert off_topic
    assert not titles & {p.title for p in off_topic}
    stages = {r["stage"] for r in rows(demo_archive, "SELECT stage FROM rejects")}
    assert {"topic", "extract"} <= stages
    reasons = " ".join(r["reason"] for r in rows(demo_archive, "SELECT reason FROM rejects"))
    assert "off-topic" in reasons and "application/pdf" in reasons


def test_demo_off_topic_pages_stay_as_captures(demo_archive):
    rejected = rows(demo_archive, "SELECT r.url FROM rejects r JOIN captures c ON c.id = r.capture_id WHERE r.stage = 'topic'")
    assert rejected


def test_demo_syndicated_copy_is_linked_to_its_original(demo_archive):
    copies = [p for p in ARTICLES if p.copy_of]
    assert len(copies) == 1
    copy = copies[0]
    original_outlet, original_path = copy.copy_of.split(":", 1)
    (row,) = rows(
        demo_archive,
        "SELECT c.outlet_id, c.url, a.outlet_id AS original_outlet, a.url AS original_url "
        "FROM copies c JOIN articles a ON a.id = c.article_id",
    )
    assert row["outlet_id"] == copy.outlet and archived_path(row["url"]).rstrip("/") == copy.path.rstrip("/")
    assert row["original_outlet"] == original_outlet
    assert archived_path(row["original_url"]).rstrip("/") == original_path.rstrip("/")


def test_demo_failures_are_logged_with_reasons(demo_archive):
    failures = {archived_path(r["url"]): r["error"] for r in rows(demo_archive, "SELECT url, error FROM fetch_failures")}
    missing = [p.path for p in load_pages() if p.kind == "missing"]
    private = [p.path for p in load_pages() if p.kind == "private"]
    assert all(failures.get(path) == "HTTP 404" for path in missing)
    assert all("robots.txt" in failures.get(path, "") for path in private)


def test_demo_redirect_is_captured_with_both_urls(demo_archive):
    redirect = next(p for p in load_pages() if p.kind == "redirect")
    captured = rows(demo_archive, "SELECT url, final_url FROM captures WHERE url LIKE ?", (f"%{redirect.path}",))
    assert captured and archived_path(captured[0]["final_url"]).rstrip("/") == redirect.redirect_to.rstrip("/")


def test_demo_search_finds_milano(demo_archive):
    found = rows(demo_archive, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'Milano'")
    assert len(found) >= 3


def test_demo_mentions_and_people_facet_agree(demo_archive):
    milano = rows(demo_archive, "SELECT count(*) AS n FROM mentions WHERE person_id = 'alyssa-milano'")[0]["n"]
    facet = rows(
        demo_archive, "SELECT count(*) AS n FROM articles, json_each(articles.people) WHERE json_each.value = 'Alyssa Milano'"
    )[0]["n"]
    assert milano == facet >= 3


def test_demo_crawl_runs_record_the_user_agent_and_robots_policy(demo_archive):
    runs = rows(demo_archive, "SELECT * FROM crawl_runs")
    assert {r["spider"] for r in runs} == {"feeds", "sitemaps", "seeds"}
    assert all(r["finish_reason"] == "finished" and r["robots_obey"] == 1 for r in runs)
    assert all(r["user_agent"].startswith("clippings/") and "+http" in r["user_agent"] for r in runs)


def test_demo_crawl_log_has_no_errors(demo_archive):
    log = demo_archive.with_suffix(".crawl.log").read_text()
    assert " ERROR: " not in log and "Traceback" not in log


@pytest.mark.slow
def test_demo_rerun_changes_no_counts(demo_archive, demo_site_port):
    tables = ["articles", "copies", "captures", "mentions", "keyword_matches", "rejects", "fetch_failures", "outlets", "people"]
    before = {t: rows(demo_archive, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}
    result = run_clippings("demo", "--no-serve", "--db", str(demo_archive), "--site-port", str(demo_site_port))
    assert result.returncode == 0, result.stderr
    after = {t: rows(demo_archive, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables}
    assert after == before
    assert rows(demo_archive, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"


def test_demo_dated_articles_are_trusted_and_flagged_as_json(articles):
    # every demo page states its date in markup or its URL; the undated one is not trusted
    for article in articles:
        assert article["date_trusted"] == int(article["published_source"] != "undated"), article["url"]
        assert isinstance(json.loads(article["text_flags"]), list)


def test_demo_texts_open_with_the_story_not_the_byline(articles):
    from pipelines.core.extraction import is_dateline

    by_title = {a["title"]: a for a in articles}
    checked = 0
    for page in ORIGINALS:
        first_line = by_title[page.title]["text"].split("\n")[0]
        assert not is_dateline(first_line), f"{page.outlet}:{page.path} opens with {first_line!r}"
        if page.byline:
            assert not first_line.startswith(page.byline.strip()), f"{page.outlet}:{page.path} opens with its byline"
            checked += 1
    assert checked, "the demo pages should have bylines to check"
