"""Extraction in worker processes, end to end through `scrapy crawl`: the same archive as in-process
extraction, identical texts arriving together stored once, a killed worker survived, and Scrapy's
event loop free while a page extracts."""

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from benchmarks.processes import grandchildren, parents
from clippings.cli import demo_topic
from clippings.demo import DemoSite

from .conftest import scrapy_crawl
from .sites import DAY, Answer, Handler, article_html, html, page, site_with_sitemap
from .test_faults import outcomes

ARTICLES = "SELECT url, title, published_day, text_sha256, keywords, people, text_flags FROM articles"
COPIES = "SELECT k.url, a.url FROM copies k JOIN articles a ON a.id = k.article_id"
REJECTS = "SELECT url, stage, reason FROM rejects"


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql).fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_site():
    with DemoSite() as running:
        yield running


@pytest.mark.slow
def test_workers_store_the_same_archive_as_in_process_extraction(demo_site, tmp_path):
    archives = {}
    for workers in (0, 2):
        (tmp_path / str(workers)).mkdir()
        archives[workers], log = scrapy_crawl(
            "sitemaps", tmp_path / str(workers), demo_topic(demo_site.outlets), "-s", f"EXTRACTION_WORKERS={workers}"
        )
    assert len(rows(archives[2], ARTICLES)) > 10
    for sql in (ARTICLES, COPIES, REJECTS):
        assert rows(archives[2], sql) == rows(archives[0], sql)


@pytest.mark.slow
def test_identical_texts_arriving_together_are_one_article_and_copies(tmp_path):
    same = html(article_html("identical"))
    routes = {f"/{DAY}/identical-{n}/": page(same) for n in range(12)}
    with site_with_sitemap(routes) as site:
        db, log = scrapy_crawl(
            "sitemaps", tmp_path, site.topic(), "-s", "EXTRACTION_WORKERS=2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=12"
        )
    assert len(rows(db, ARTICLES)) == 1
    assert len(rows(db, COPIES)) == 11
    assert rows(db, REJECTS) == []


def crawl_process() -> int:
    """The `scrapy crawl` process this test started: the child of this process running scrapy."""
    for pid, parent in parents().items():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if parent == os.getpid() and b"scrapy\x00crawl" in command:
            return pid
    raise LookupError("no scrapy crawl child")


@pytest.mark.slow
def test_killed_extraction_worker_is_replaced_and_every_page_archived(tmp_path):
    routes = {f"/{DAY}/story-{n}/": page(html(article_html(f"number {n}"))) for n in range(10)}
    killed = []

    def kill_workers(handler: Handler, times: int) -> Answer:
        """Before answering, SIGKILL the crawl's extraction workers (once some exist)."""
        deadline = time.monotonic() + 20
        while not (workers := grandchildren(crawl_process())) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        killed.extend(workers)
        return html(article_html("after the kill"))

    routes[f"/{DAY}/kill/"] = kill_workers
    with site_with_sitemap(routes) as site:
        command = ("-s", "EXTRACTION_WORKERS=2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic(), *command)
    assert killed
    assert "An extraction worker died" in log
    assert len(rows(db, ARTICLES)) == 11
    assert rows(db, REJECTS) == []


# --- the event loop stays free -----------------------------------------------------------
# Page A is slow to extract (seconds). Page B is requested at the same time as A, with a short
# download timeout, and its (large) answer is sent half a second after A's. In-process, the
# loop is held by A's extraction when B's answer arrives and B's timer expires meanwhile:
# when the loop comes back, the expired timer runs before B's answer is read to its end, and B
# fails. With workers, the loop reads B at once. No timing is measured: the outcome says it.
B_TIMEOUT = 2
SLOW_PAGE = article_html("slow").replace(
    "</article>",
    "<p>Reporters said the producer met women in hotel rooms, again and again, for years.</p>" * 60000 + "</article>",
)
LARGE_PAGE = article_html("large") + "<!-- " + "padding " * 250_000 + "-->"


def slow_and_concurrent_routes() -> dict:
    b_asked, a_answered = threading.Event(), threading.Event()

    def slow_to_extract(handler: Handler, times: int) -> Answer:
        b_asked.wait(10)  # both requests are out before A's answer arrives
        a_answered.set()
        return html(SLOW_PAGE)

    def large_after_a(handler: Handler, times: int) -> Answer:
        b_asked.set()
        a_answered.wait(10)
        time.sleep(0.5)  # A's extraction has begun
        return html(LARGE_PAGE)

    return {f"/{DAY}/slow/": slow_to_extract, f"/{DAY}/large/": large_after_a}


@pytest.mark.parametrize("workers, large_page", [(2, "article"), (0, "failure")])
@pytest.mark.slow
def test_slow_extraction_does_not_hold_a_concurrent_download(tmp_path, workers, large_page):
    """With workers 0 this is the control: it shows the test catches extraction on the loop."""
    with site_with_sitemap(slow_and_concurrent_routes()) as site:
        db, log = scrapy_crawl(
            "sitemaps",
            tmp_path,
            site.topic(),
            "-s",
            f"EXTRACTION_WORKERS={workers}",
            "-s",
            f"DOWNLOAD_TIMEOUT={B_TIMEOUT}",
            "-s",
            "RETRY_TIMES=0",
        )
        found = outcomes(db)
        ((table, says),) = found[site.url(f"/{DAY}/large/")]
    assert table == large_page, says
    assert found[site.url(f"/{DAY}/slow/")][0][0] == "article"
