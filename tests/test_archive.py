"""Opening archives: migrations, WAL, refusing foreign or broken files; logs that do not grow on re-runs."""

import sqlite3

import pytest

from pipelines.store.archive import Archive, ArchiveError
from pipelines.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, migrate

from .conftest import PROJECT_ROOT, THRESHOLDS

PAGES = PROJECT_ROOT / "tests" / "pages"


def test_archive_migrates_new_file_in_wal_mode(tmp_path):
    archive = Archive(tmp_path / "a.db")
    assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert archive.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"articles", "captures", "articles_fts", "rejects", "fetch_failures"} <= set(archive.db.table_names())


def test_archive_reopens_without_migrating_again(tmp_path):
    Archive(tmp_path / "a.db").close()
    archive = Archive(tmp_path / "a.db")
    assert archive.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_archive_refuses_foreign_database_untouched(foreign_db):
    before = foreign_db.read_bytes()
    with pytest.raises(ArchiveError, match="not a clippings archive"):
        Archive(foreign_db)
    assert foreign_db.read_bytes() == before


def test_archive_refuses_non_sqlite_file(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ArchiveError, match="not a readable SQLite archive"):
        Archive(path)


def test_archive_missing_file_when_not_creating(tmp_path):
    with pytest.raises(ArchiveError, match="no archive at"):
        Archive(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def add_runs(archive, *run_ids):
    archive.db["crawl_runs"].insert_all(
        {
            "id": run_id,
            "spider": "seeds",
            "topic": "t",
            "topic_sha256": "0",
            "started_at": "2026-01-01",
            "user_agent": "ua",
            "robots_obey": 1,
            "clippings_version": "0",
        }
        for run_id in run_ids
    )


def test_log_reject_updates_instead_of_adding(tmp_path):
    archive = Archive(tmp_path / "a.db")
    add_runs(archive, "r1", "r2", "r3")
    for run_id in ("r1", "r2", "r3"):
        archive.log_reject("https://e.com/x", "topic", "off-topic: score 0", "seeds", run_id, None)
    row = archive.row("SELECT count(*) AS n, max(times_seen) AS seen FROM rejects")
    assert row == {"n": 1, "seen": 3}


def test_log_reject_again_in_a_resumed_run_counts_once(tmp_path):
    archive = Archive(tmp_path / "a.db")
    add_runs(archive, "r1")
    for _ in range(2):
        archive.log_reject("https://e.com/x", "topic", "off-topic: score 0", "seeds", "r1", None)
    assert archive.row("SELECT times_seen FROM rejects") == {"times_seen": 1}


def test_transaction_rolls_back_on_error(tmp_path):
    archive = Archive(tmp_path / "a.db")
    with pytest.raises(RuntimeError):
        with archive.transaction():
            archive.log_reject("https://e.com/x", "topic", "r", "seeds", None, None)
            raise RuntimeError("crash mid-write")
    assert archive.count("rejects") == 0


def test_add_capture_shares_bodies_and_keeps_redirects(tmp_path):
    from clippings.cli import DEFAULT_TOPIC
    from pipelines.core.items import FetchedPage
    from pipelines.core.topic import load_topic

    archive = Archive(tmp_path / "a.db")
    archive.start_run("run", "seeds", load_topic(DEFAULT_TOPIC), "clippings/test", True)

    def page(url, final_url):
        return FetchedPage(
            url,
            final_url,
            200,
            {"content-type": ["text/html"]},
            b"<html>same</html>",
            "2017-10-16T00:00:00+00:00",
            "seeds",
            "run",
        )

    first = archive.add_capture(page("https://e.com/a", "https://e.com/a"), "h1")
    again = archive.add_capture(page("https://e.com/a", "https://e.com/a"), "h1")
    redirect = archive.add_capture(page("https://e.com/old", "https://e.com/a"), "h1")
    assert first == (1, True) and again == (1, False) and redirect == (2, True)
    assert archive.count("capture_bodies") == 1
    assert archive.capture_body(2) == b"<html>same</html>"


def test_promote_copy_makes_the_earlier_copy_the_article(tmp_path):
    from clippings.cli import DEFAULT_TOPIC
    from pipelines.core.extraction import extract_article
    from pipelines.core.items import FetchedPage
    from pipelines.core.relevance import TopicMatcher
    from pipelines.core.topic import load_topic

    topic = load_topic(DEFAULT_TOPIC)
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    html = (PAGES / "jsonld_article.html").read_bytes()

    def stored_page(url, listing_day):
        page = FetchedPage(url, url, 200, {}, html.replace(b"2017-10-10T22:15", listing_day.encode()), "t", "seeds", "run")
        page.capture_id, _ = archive.add_capture(page, url)
        page.article = extract_article(page.body, url)
        page.topic_match = TopicMatcher(topic).decide(page.article.title, page.article.text)
        page.canonical_url = url
        return page

    later = stored_page("https://copy.example/2017/10/11/accusers", "2017-10-11T08:00")
    article_id = archive.add_article(later, topic, THRESHOLDS.story_similarity)
    earlier = stored_page("https://original.example/2017/10/10/accusers", "2017-10-10T08:00")
    archive.promote_copy(earlier, article_id, topic, "identical text")
    article = archive.row("SELECT id, url, published_day FROM articles")
    copy = archive.row("SELECT article_id, url, published_day FROM copies")
    assert article == {"id": article_id, "url": earlier.canonical_url, "published_day": "2017-10-10"}
    assert copy == {"article_id": article_id, "url": later.canonical_url, "published_day": "2017-10-11"}
    assert archive.count("mentions") > 0
    assert archive.article_of_capture(earlier.capture_id)["id"] == article_id
    assert archive.copy_of_capture(later.capture_id)["url"] == later.canonical_url


def test_article_url_key_ignores_trailing_slash(tmp_path):
    archive = Archive(tmp_path / "a.db")
    archive.conn.execute("PRAGMA foreign_keys = OFF")
    archive.conn.execute(
        "INSERT INTO articles (url, capture_id, published_source, text, word_count, text_sha256, relevance, source, extractor, added_at) "
        "VALUES ('https://e.com/story/', 1, 'undated', 't', 1, 'h', 'r', 'live', 'x', 'now')"
    )
    assert archive.article_by_url("https://e.com/story")["id"] == 1
    with pytest.raises(sqlite3.IntegrityError):
        archive.conn.execute(
            "INSERT INTO articles (url, capture_id, published_source, text, word_count, text_sha256, relevance, source, extractor, added_at) "
            "VALUES ('https://e.com/story', 1, 'undated', 't', 1, 'h2', 'r', 'live', 'x', 'now')"
        )


def test_archive_migrates_a_first_version_archive(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = 1;\nCOMMIT;")
    assert migrate(conn) == SCHEMA_VERSION - 1
    columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    assert {"modified_at", "date_trusted", "text_flags"} <= columns


def test_capture_from_another_source_is_its_own_capture(tmp_path):
    from clippings.cli import DEFAULT_TOPIC
    from pipelines.core.items import FetchedPage
    from pipelines.core.topic import load_topic

    archive = Archive(tmp_path / "a.db")
    archive.start_run("run", "wayback", load_topic(DEFAULT_TOPIC), "clippings/test", True)
    live = FetchedPage(
        "https://e.com/a", "https://e.com/a", 200, {}, b"<html>x</html>", "2026-01-01T00:00:00+00:00", "seeds", "run"
    )
    archived = FetchedPage(
        "https://e.com/a",
        "https://e.com/a",
        200,
        {},
        b"<html>x</html>",
        "2026-01-01T00:00:00+00:00",
        "wayback",
        "run",
        source="wayback",
        archived_at="2017-10-16T00:00:00+00:00",
        record_file="https://web.archive.org/web/20171016000000id_/https://e.com/a",
    )
    assert archive.add_capture(live, "h")[1] and archive.add_capture(archived, "h")[1]
    assert not archive.add_capture(archived, "h")[1]
    row = archive.row("SELECT source, record_file FROM captures WHERE id = 2")
    assert row == {"source": "wayback", "record_file": archived.record_file}
    assert archive.count("capture_bodies") == 1


def test_widening_captures_keeps_their_ids_and_references(tmp_path):
    from pipelines.store.schema import CAPTURE_SOURCES

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    before = MIGRATIONS.index(CAPTURE_SOURCES)
    for number, migration in enumerate(MIGRATIONS[:before], start=1):
        conn.executescript(
            f"BEGIN;\n{migration}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    conn.executescript("""
        INSERT INTO capture_bodies VALUES ('h', 1, 'zstd', x'00');
        INSERT INTO captures (id, url, final_url, status, headers, fetched_at, content_sha256, source, spider)
            VALUES (7, 'https://e.com/a', 'https://e.com/a', 200, '{}', '2026', 'h', 'live', 'seeds');
        INSERT INTO rejects (url, stage, reason, capture_id, spider, first_seen_at, last_seen_at)
            VALUES ('https://e.com/a', 'topic', 'off-topic', 7, 'seeds', '2026', '2026');
    """)
    assert migrate(conn) == SCHEMA_VERSION - before
    assert conn.execute("SELECT id, record_file FROM captures").fetchall() == [(7, None)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT c.url FROM rejects r JOIN captures c ON c.id = r.capture_id").fetchall() == [("https://e.com/a",)]


def test_utc_day_migration_fills_the_utc_day_of_stamps_with_an_offset(tmp_path):
    from pipelines.store.schema import PUBLISHED_UTC_DAY

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    before = MIGRATIONS.index(PUBLISHED_UTC_DAY)
    for number, migration in enumerate(MIGRATIONS[:before], start=1):
        conn.executescript(
            f"BEGIN;\n{migration}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    conn.execute("INSERT INTO capture_bodies VALUES ('h', 1, 'zstd', x'00')")
    conn.execute(
        "INSERT INTO captures (id, url, final_url, status, headers, fetched_at, content_sha256, source, spider) "
        "VALUES (1, 'https://e.com/a', 'https://e.com/a', 200, '{}', '2026', 'h', 'live', 'seeds')"
    )
    for number, published_at in enumerate(["2017-10-16T22:45:00-04:00", "2017-10-16T08:00:00", "2017-10-16", None], start=1):
        conn.execute(
            "INSERT INTO articles (id, url, capture_id, published_at, published_day, published_source, text, "
            "word_count, text_sha256, relevance, source, extractor, added_at) VALUES "
            "(?, ?, 1, ?, substr(?, 1, 10), 'json-ld', 't', 1, ?, 'r', 'live', 'x', 'now')",
            (number, f"https://e.com/{number}", published_at, published_at, f"h{number}"),
        )
    assert migrate(conn) == SCHEMA_VERSION - before
    days = conn.execute("SELECT published_day, published_utc_day FROM articles ORDER BY id").fetchall()
    assert days == [("2017-10-16", "2017-10-17"), ("2017-10-16", None), ("2017-10-16", None), (None, None)]
    assert "timezone" in {row[1] for row in conn.execute("PRAGMA table_info(outlets)")}


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_store_page_same_day_copies_are_ordered_by_url_whatever_arrives_first(tmp_path, order):
    """Pages are extracted concurrently, so the one that finishes first is chance: the archive must not depend on it."""
    from clippings.cli import DEFAULT_TOPIC
    from pipelines.core.extraction import extract_article
    from pipelines.core.items import FetchedPage
    from pipelines.core.relevance import TopicMatcher
    from pipelines.core.topic import load_topic
    from pipelines.store.pages import dedupe_page, store_page

    topic = load_topic(DEFAULT_TOPIC)
    archive = Archive(tmp_path / "a.db")
    archive.sync_topic(topic)
    archive.start_run("run", "seeds", topic, "clippings/test", True)
    html = (PAGES / "jsonld_article.html").read_bytes()
    for name in order:
        url = f"https://{name}.example/2017/10/10/accusers"
        page = FetchedPage(url, url, 200, {}, html, "t", "seeds", "run")
        page.capture_id, _ = archive.add_capture(page, url)
        page.article = extract_article(page.body, url)
        page.topic_match = TopicMatcher(topic).decide(page.article.title, page.article.text)
        dedupe_page(archive, page)
        store_page(archive, topic, page, THRESHOLDS)
    assert archive.row("SELECT url FROM articles") == {"url": "https://a.example/2017/10/10/accusers"}
    assert archive.row("SELECT url FROM copies") == {"url": "https://b.example/2017/10/10/accusers"}


def test_import_files_are_recorded_and_found_again_for_the_same_topic(tmp_path):
    archive = Archive(tmp_path / "a.db")
    add_runs(archive, "r1")
    file_id = archive.add_import_file("r1", "/warcs/a.warc.gz", "incomplete")
    archive.add_import_file("r1", "/warcs/b.warc.gz", "already imported", finished=True)
    assert not archive.imported_before("/warcs/a.warc.gz", ("complete",), "0")
    with archive.transaction():
        archive.update_import_file(file_id, {"status": "complete", "pages": 3})
        archive.set_run_counts("r1", {"pages_fetched": 3})
    assert archive.imported_before("/warcs/a.warc.gz", ("complete", "with errors"), "0")
    assert not archive.imported_before("/warcs/a.warc.gz", ("complete",), "another topic")
    assert archive.row("SELECT finished_at IS NOT NULL AS done FROM import_files WHERE location = '/warcs/b.warc.gz'") == {
        "done": 1
    }
    assert archive.row("SELECT pages_fetched FROM crawl_runs") == {"pages_fetched": 3}


def test_forget_rejects_removes_only_the_captures_rejects(tmp_path):
    archive = Archive(tmp_path / "a.db")
    add_runs(archive, "r1")
    archive.conn.execute("PRAGMA foreign_keys = OFF")
    archive.log_reject("https://e.com/x", "extract", "not an article", "seeds", "r1", 7)
    archive.log_reject("https://e.com/y", "extract", "not an article", "seeds", "r1", 8)
    archive.forget_rejects(7)
    assert [url for (url,) in archive.conn.execute("SELECT url FROM rejects")] == ["https://e.com/y"]


def test_latest_topic_and_outlet_names_are_the_last_synced(tmp_path):
    from clippings.cli import DEFAULT_TOPIC
    from pipelines.core.topic import load_topic

    archive = Archive(tmp_path / "a.db")
    assert archive.latest_topic_yaml() is None and archive.outlet_names() == {}
    topic = load_topic(DEFAULT_TOPIC)
    archive.sync_topic(topic)
    assert archive.latest_topic_yaml() == topic.text
    assert archive.outlet_names() == {o.id: o.name for o in topic.outlets}


def test_captures_after_and_what_each_was_made_into(tmp_path):
    from pipelines.core.items import FetchedPage

    archive = Archive(tmp_path / "a.db")
    add_runs(archive, "run")
    for n in range(3):
        url = f"https://e.com/{n}"
        archive.add_capture(FetchedPage(url, url, 200, {}, f"<p>{n}</p>".encode(), "2017-10-16", "seeds", "run"), f"h{n}")
    assert [c["url"] for c in archive.captures_after(0, 2)] == ["https://e.com/0", "https://e.com/1"]
    assert [(c["id"], c["source"]) for c in archive.captures_after(2, 5)] == [(3, "live")]
    assert archive.captures_after(3, 5) == []
    assert archive.article_of_capture(1) is None and archive.copy_of_capture(1) is None


def test_latest_takedown_and_the_list_follow_each_takedown_added(tmp_path):
    archive = Archive(tmp_path / "a.db")
    assert archive.latest_takedown() is None and archive.takedown_list() == []
    archive.add_takedown("https://e.com/a", "a request", "2026-01-02")
    first = archive.latest_takedown()
    archive.add_takedown("https://e.com/b*", "another", "2026-01-03")
    assert archive.latest_takedown() > first
    assert archive.takedown_list() == [
        ("2026-01-02", "https://e.com/a", "a request", 0),
        ("2026-01-03", "https://e.com/b*", "another", 0),
    ]


def test_opening_on_a_full_disk_says_so(tmp_path):
    """A write refused while the archive is created or migrated (here: RLIMIT_FSIZE, which the
    kernel enforces with EFBIG, SQLite's disk I/O error; a full disk gives SQLITE_FULL) is
    reported as such, not as an unreadable file; what was migrated stays consistent."""
    import subprocess
    import sys

    db = tmp_path / "archive.db"
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "from pipelines.store.archive import Archive, ArchiveError\n"
        "try:\n    Archive(__import__('sys').argv[1])\nexcept ArchiveError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(db)], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == (
        f"cannot write to {db} (disk I/O error): is its disk full? Free some space and run the command again; "
        "the archive is as it was"
    ), result.stdout + result.stderr
    archive = Archive(db)  # with space again, the same file opens and is brought up to date
    assert archive.count("articles") == 0
    archive.close()
