"""A real `clippings import` subprocess killed (SIGKILL) or stopped with Ctrl-C (SIGINT to its
process group, as a terminal sends it) in the middle of a file: the import_files row and the run's
counts describe what is stored, the status says the file is not done, and the same command then
completes the archive as an uninterrupted import builds it.

The moment is made certain, not timed: once the first batch is stored, the test takes the
archive's write lock, so the import waits at its next write; the signal comes then."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, rows
from tests.test_import import demo_records  # noqa: F401 (fixture)
from tests.warcfiles import Record, write_warc

EDITIONS = 8  # copies of each demo article under other URLs: enough pages for several batches


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("interrupt")


@pytest.fixture(scope="module")
def many_pages(demo_records, folder) -> Path:
    pages = [Record(f"{r.url}?edition={n}", r.body, date=r.date) for n in range(EDITIONS) for r in demo_records]
    path = folder / "editions.warc.gz"
    write_warc(path, pages)
    return path


@pytest.fixture(scope="module")
def demo_topic(demo_archive, folder) -> Path:
    path = folder / "demo-topic.yml"
    path.write_text(rows(demo_archive, "SELECT yaml FROM topics")[0][0])
    return path


def command(warc: Path, db: Path, topic: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "clippings", "import", str(warc), "--db", str(db), "--topic", str(topic), *extra]


def start(warc: Path, db: Path, topic: Path, *extra: str) -> subprocess.Popen:
    """The import in a process group of its own, with Ctrl-C's default meaning (a test run in the
    background, as `cmd &` starts it, would otherwise hand its children SIGINT ignored)."""
    return subprocess.Popen(
        command(warc, db, topic, *extra),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def hold_after_first_batch(db: Path, process: subprocess.Popen) -> sqlite3.Connection:
    """Wait until the import has stored a batch and counted it, then take the write lock."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the import ended (exit {process.returncode}) before its file's row counted a stored page")
        try:
            found = rows(db, "SELECT pages FROM import_files")
        except sqlite3.OperationalError:
            found = []  # not created yet
        if found and found[0][0]:
            lock = sqlite3.connect(db, timeout=120, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            return lock
        time.sleep(0.05)
    pytest.fail("no batch stored within 600 s")


def file_row(db: Path, order: str = "ASC") -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute(f"SELECT * FROM import_files ORDER BY id {order} LIMIT 1").fetchone())
    conn.close()
    return row


def assert_counts_describe_the_archive(db: Path, row: dict) -> None:
    run = row["crawl_run_id"]
    stored = {
        "articles_added": rows(
            db, "SELECT count(*) FROM articles a JOIN captures c ON c.id = a.capture_id WHERE c.crawl_run_id = ?", (run,)
        )[0][0],
        "copies_added": rows(db, "SELECT count(*) FROM copies WHERE crawl_run_id = ?", (run,))[0][0],
        "rejects": rows(db, "SELECT count(*) FROM rejects WHERE crawl_run_id = ?", (run,))[0][0],
    }
    assert {name: row[name] for name in stored} == stored
    outcomes = (
        "articles_added",
        "copies_added",
        "versions_added",
        "articles_unchanged",
        "rejects",
        "errors",
        "takedowns_skipped",
    )
    assert row["pages"] == sum(row[name] for name in outcomes) > 0
    [run_counts] = rows(db, "SELECT pages_fetched, articles_added, copies_added, rejects FROM crawl_runs WHERE id = ?", (run,))
    assert run_counts == (row["pages"], row["articles_added"], row["copies_added"], row["rejects"])


COMPARED = {
    "articles": "SELECT url, title, text_sha256, published_day, outlet_id FROM articles ORDER BY url",
    "copies": "SELECT c.url, a.url FROM copies c JOIN articles a ON a.id = c.article_id ORDER BY c.url",
    "captures": "SELECT url, content_sha256, record_offset, record_length FROM captures ORDER BY url",
    "rejects": "SELECT url, stage, reason FROM rejects ORDER BY url, stage",
    "mentions": "SELECT count(*) FROM mentions",
}


def archive_of(db: Path) -> dict[str, list]:
    return {table: rows(db, sql) for table, sql in COMPARED.items()}


@pytest.fixture(scope="module")
def uninterrupted(many_pages, demo_topic, folder) -> dict[str, list]:
    db = folder / "uninterrupted.db"
    result = subprocess.run(
        command(many_pages, db, demo_topic, "--workers", "0"), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    row = file_row(db)
    assert row["status"] == "complete" and row["pages"] > 2 * 64  # more than two batches
    return archive_of(db)


def finish(warc: Path, db: Path, topic: Path) -> None:
    """The same command again, to its end."""
    result = subprocess.run(
        command(warc, db, topic, "--workers", "0"), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    assert file_row(db, "DESC")["status"] == "complete"
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.slow
def test_a_killed_import_counts_what_it_stored_and_the_same_command_completes_it(many_pages, demo_topic, tmp_path, uninterrupted):
    db = tmp_path / "killed.db"
    process = start(many_pages, db, demo_topic, "--workers", "0")
    lock = hold_after_first_batch(db, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    lock.execute("ROLLBACK")
    lock.close()
    row = file_row(db)
    assert (row["status"], row["finished_at"]) == ("incomplete", None)
    assert_counts_describe_the_archive(db, row)
    assert row["pages"] < uninterrupted_pages(uninterrupted)
    finish(many_pages, db, demo_topic)
    assert archive_of(db) == uninterrupted


def uninterrupted_pages(archive: dict[str, list]) -> int:
    return len(archive["articles"]) + len(archive["copies"]) + len(archive["rejects"])


@pytest.mark.parametrize("workers", ["0", "2"])
@pytest.mark.slow
def test_an_import_stopped_with_ctrl_c_says_so_counts_what_it_stored_and_resumes(
    many_pages, demo_topic, tmp_path, uninterrupted, workers
):
    db = tmp_path / "stopped.db"
    process = start(many_pages, db, demo_topic, "--workers", workers)
    lock = hold_after_first_batch(db, process)
    os.killpg(process.pid, signal.SIGINT)  # the whole group, workers included, as a terminal does
    time.sleep(0.5)  # the signal is pending in a process that waits for the lock
    lock.execute("ROLLBACK")
    lock.close()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert "interrupted; what was stored is kept" in err and "Traceback" not in err + out
    row = file_row(db)
    assert row["status"] == "interrupted" and row["finished_at"] is not None
    assert_counts_describe_the_archive(db, row)
    assert rows(db, "SELECT finish_reason FROM crawl_runs") == [("interrupted",)]
    finish(many_pages, db, demo_topic)
    assert archive_of(db) == uninterrupted


@pytest.mark.slow
def test_a_full_disk_is_one_sentence_and_the_same_command_completes_the_archive(many_pages, demo_topic, tmp_path, uninterrupted):
    """Once a batch is stored, the import may write no more bytes to any file (RLIMIT_FSIZE 0,
    SIGXFSZ ignored: a write fails with EFBIG, which SQLite reports as a disk I/O error)."""
    import resource

    db = tmp_path / "full.db"
    process = subprocess.Popen(
        command(many_pages, db, demo_topic, "--workers", "0"),
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
    )
    lock = hold_after_first_batch(db, process)
    resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (0, 0))
    lock.execute("ROLLBACK")
    lock.close()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    assert f"cannot write to {db} (disk I/O error); what was stored before is kept" in err
    assert "Traceback" not in err + out
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    row = file_row(db)
    assert row["status"] == "incomplete"
    assert_counts_describe_the_archive(db, row)
    finish(many_pages, db, demo_topic)
    assert archive_of(db) == uninterrupted
