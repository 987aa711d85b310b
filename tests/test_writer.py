"""The crawl's archive writer (crawlers/writer.py): pages committed in groups, each page all or
nothing inside its group, the job state told only of committed groups, other writers let in."""

import sqlite3
import threading
import time

import pytest
from scrapy.utils.test import get_crawler

from crawlers.writer import GROUP_GAP_SECONDS, ArchiveWriter, NotStored, archive_committed, archive_rolled_back
from pipelines.core.items import FetchFailure
from pipelines.core.topic import load_topic

from .conftest import PROJECT_ROOT


@pytest.fixture
def writer(tmp_path):
    crawler = get_crawler(
        settings_dict={
            "ARCHIVE_PATH": str(tmp_path / "archive.db"),
            "GROUP_COMMIT_SECONDS": 1.0,
            "COMPRESSION_DICTIONARY_SAMPLES": 64,
            "COMPRESSION_DICTIONARY_SIZE": 262144,
        }
    )
    writer = ArchiveWriter(crawler)
    topic = load_topic(PROJECT_ROOT / "topics" / "metoo.yml")
    writer.archive.sync_topic(topic)
    writer.archive.start_run("run", "seeds", topic, "clippings-test", True)
    writer.grouping = True  # as between spider_opened and spider_closed (the timer is the test's loop)
    signals = []
    crawler.signals.connect(lambda: signals.append("committed"), signal=archive_committed, weak=False)
    crawler.signals.connect(lambda: signals.append("rolled back"), signal=archive_rolled_back, weak=False)
    writer.signals = signals
    yield writer
    writer.engine_stopped()


def failure(number: int) -> FetchFailure:
    return FetchFailure(url=f"http://example.org/{number}", error="HTTP 404", spider="seeds", crawl_run_id="run", status=404)


def committed_urls(writer) -> set[str]:
    conn = sqlite3.connect(writer.path)
    try:
        return {url for (url,) in conn.execute("SELECT url FROM fetch_failures")}
    finally:
        conn.close()


def test_writer_commits_a_group_of_pages_at_once(writer):
    for number in range(5):
        writer.joining().log_failure(failure(number))
    assert committed_urls(writer) == set() and writer.signals == []
    writer.commit()
    assert len(committed_urls(writer)) == 5 and writer.signals == ["committed"]


def test_writer_keeps_a_failed_page_out_of_its_group(writer):
    writer.joining().log_failure(failure(1))
    with pytest.raises(RuntimeError):
        archive = writer.joining()
        with archive.transaction():
            archive.log_failure(failure(2))
            raise RuntimeError("the page's writes fail half-way")
    writer.joining().log_failure(failure(3))
    writer.commit()
    assert committed_urls(writer) == {"http://example.org/1", "http://example.org/3"}


def test_writer_reports_a_lost_group_and_writes_none_of_it(writer):
    archive = writer.joining()
    archive.log_failure(failure(1))
    archive.conn.execute("ROLLBACK")  # as SQLite does on some errors (a full disk)
    writer.commit()
    assert writer.signals == ["rolled back"] and committed_urls(writer) == set()
    # and the crawl stops: nothing more is written (tests/test_disk_full.py has the real full disk)
    assert "SQLite rolled back the open group of writes" in writer.failure
    with pytest.raises(NotStored):
        writer.joining()


def test_writer_commits_at_once_in_the_gap_after_a_commit(writer):
    writer.joining().log_failure(failure(1))
    writer.commit()
    writer.joining().log_failure(failure(2))  # within GROUP_GAP_SECONDS: a transaction of its own
    assert len(committed_urls(writer)) == 2
    time.sleep(GROUP_GAP_SECONDS)
    writer.joining().log_failure(failure(3))
    assert len(committed_urls(writer)) == 2


def test_another_writer_gets_its_turn_while_pages_keep_coming(writer):
    """A crawl writing without pause must not starve `clippings takedown` (SQLite's busy handler
    polls the lock every 100 ms at most: it needs the lock free now and then)."""
    stop = threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(writer.path, timeout=10)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM fetch_failures WHERE url LIKE 'http://example.org/%'")
            conn.execute("COMMIT")
        finally:
            conn.close()
            stop.set()

    writer.joining().log_failure(failure(0))
    other = threading.Thread(target=other_writer)
    other.start()
    started, number, last_commit = time.monotonic(), 0, time.monotonic()
    while not stop.is_set() and time.monotonic() - started < 6:
        number += 1
        writer.joining().log_failure(failure(number))
        if time.monotonic() - last_commit >= 0.3:  # the group timer, shortened
            writer.commit()
            last_commit = time.monotonic()
        time.sleep(0.002)
    other.join()
    # Measured: 0.33 s (the first commit, then the first poll in the gap); without the gap, 5 s and more.
    assert stop.is_set() and time.monotonic() - started < 3
