"""`clippings import`: WARC, WARC.gz and WACZ files through the crawl's code path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from clippings.cli import main
from pipelines.store.archive import Archive
from tests.conftest import rows
from tests.sites import Files
from tests.warcfiles import Record, corrupt, records_from_archive, truncate, write_wacz, write_warc

ARTICLE_PATH = "/2017/10/10/new-yorker-weinstein-accounts/"


@pytest.fixture(scope="module")
def demo_records(demo_archive) -> list[Record]:
    """What the live crawl of the demo site fetched, as WARC records."""
    return records_from_archive(demo_archive)


@pytest.fixture
def demo_topic(demo_archive, tmp_path) -> Path:
    path = tmp_path / "demo-topic.yml"
    conn = sqlite3.connect(demo_archive)
    path.write_text(conn.execute("SELECT yaml FROM topics").fetchone()[0])
    conn.close()
    return path


def on_topic(records: list[Record]) -> Record:
    return next(r for r in records if r.url.endswith(ARTICLE_PATH))


def special_records(records: list[Record]) -> list[Record]:
    """Pages and records the import must turn away, each for its own reason."""
    article = on_topic(records)
    base = article.url[: -len(ARTICLE_PATH)]
    old = article.body.replace(b"2017", b"2016")
    noarchive = article.body.replace(b"<head>", b'<head><meta name="robots" content="noarchive">', 1)
    return [
        Record(base + "/2016/10/10/an-older-story/", old),
        Record(base + "/asked-not-to-be-archived/", noarchive),
        Record(base + "/gone/", b"<html>Weinstein: not found</html>", status="404 Not Found"),
        Record(article.url, b"", kind="revisit"),
        Record(article.url, b"", kind="request"),
    ]


def run_import(*args: str):
    return CliRunner().invoke(main, ["import", *args], catch_exceptions=False)


def import_file_row(db: Path) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM import_files ORDER BY id DESC LIMIT 1").fetchone())
    conn.close()
    return row


def write_archive_file(path: Path, records: list[Record]) -> str:
    """The records as path (.warc, .warc.gz or .wacz); the prefix of its record_file values."""
    if path.suffix != ".wacz":
        write_warc(path, records)
        return str(path)
    half = len(records) // 2
    warcs = {"one.warc.gz": path.with_name("one.warc.gz"), "two.warc": path.with_name("two.warc")}
    write_warc(warcs["one.warc.gz"], records[:half])
    write_warc(warcs["two.warc"], records[half:])
    write_wacz(path, warcs)
    return f"{path}#archive/"


@pytest.mark.parametrize("name", ["pages.warc", "pages.warc.gz", "pages.wacz"])
def test_import_reads_warc_gzipped_warc_and_wacz(demo_archive, demo_records, demo_topic, tmp_path, name):
    path, db = tmp_path / name, tmp_path / "archive.db"
    prefix = write_archive_file(path, demo_records + special_records(demo_records))
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM articles") == rows(demo_archive, "SELECT count(*) FROM articles")
    row = import_file_row(db)
    assert row["status"] == "complete" and json.loads(row["problems"]) == []
    assert (row["skipped_revisit"], row["skipped_not_html"], row["skipped_status"]) == (1, 1, 1)
    assert row["skipped_not_response"] == (2 if name.endswith("wacz") else 1) + 1  # warcinfo records + the request
    assert row["prefiltered_out"] == rows(demo_archive, "SELECT count(*) FROM rejects WHERE reason LIKE 'off-topic%'")[0][0]
    rejects = dict(rows(db, "SELECT url, stage || ': ' || reason FROM rejects"))
    assert any(url.endswith("/an-older-story/") and "outside the window" in why for url, why in rejects.items())
    assert any(
        url.endswith("/asked-not-to-be-archived/") and why.startswith("respect: noarchive") for url, why in rejects.items()
    )
    assert rows(db, "SELECT count(*) FROM captures WHERE url LIKE '%asked-not-to-be-archived%'") == [(0,)]
    assert rows(db, "SELECT DISTINCT source, spider FROM captures") == [("warc", "import")]
    assert rows(db, "SELECT count(*) FROM captures WHERE record_file NOT LIKE ? || '%'", (prefix,)) == [(0,)]
    assert rows(db, "SELECT count(*) FROM crawl_runs WHERE spider = 'import' AND finished_at IS NOT NULL") == [(1,)]


def test_import_records_where_each_page_lies(demo_records, demo_topic, tmp_path):
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records)
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    captures = rows(db, "SELECT url, archived_at, record_offset, record_length FROM captures")
    with path.open("rb") as stream:
        for url, archived_at, offset, length in captures:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert archived_at == record.rec_headers.get_header("WARC-Date").replace("Z", "+00:00")
            assert length > 0


@pytest.mark.parametrize("name", ["pages.warc", "pages.warc.gz"])
def test_import_skips_damaged_records_and_reports_them(demo_archive, demo_records, demo_topic, tmp_path, name):
    """A corrupt record in the middle and a truncated end: every good record is imported, the
    bad ones reported with where they lie, and the exit code says so."""
    kept = {url for (url,) in rows(demo_archive, "SELECT c.url FROM articles a JOIN captures c ON c.id = a.capture_id")}
    articles = [r for r in demo_records if r.url in kept][:6]
    path, db = tmp_path / name, tmp_path / "archive.db"
    offsets = write_warc(path, articles)
    corrupt(path, offsets[2] + 40)
    truncate(path, offsets[5] + 300)
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0")
    assert result.exit_code == 1
    assert "some records could not be imported" in result.output
    imported = {url for (url,) in rows(db, "SELECT url FROM captures")}
    assert imported == {articles[i].url for i in (0, 1, 3, 4)}
    row = import_file_row(db)
    assert row["status"] == "with errors" and row["damaged"] == 2
    problems = json.loads(row["problems"])
    # where the damage starts: the end of the last good record, the bad record's start give or
    # take its blank line (warcio's count falls a few bytes short before a truncated member)
    assert [offsets[2] - 16 <= problems[0]["offset"] <= offsets[2], offsets[5] - 16 <= problems[1]["offset"] <= offsets[5]] == [
        True,
        True,
    ]
    assert f"at byte {problems[0]['offset']}" in result.output
    assert "Traceback" not in result.output


def test_import_again_adds_nothing_twice(demo_records, demo_topic, tmp_path):
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records + special_records(demo_records))
    tables = ("articles", "copies", "captures", "capture_bodies", "rejects", "mentions", "keyword_matches", "text_sketches")
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    before = {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables}
    first = import_file_row(db)
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    assert {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables} == before
    row = import_file_row(db)
    assert row["articles_added"] == row["copies_added"] == 0
    assert row["articles_unchanged"] == first["articles_added"] + first["copies_added"] + first["articles_unchanged"]
    assert row["rejects"] == first["rejects"]


ARTICLE_FIELDS = (
    "url",
    "title",
    "authors",
    "published_at",
    "published_day",
    "published_source",
    "date_trusted",
    "text",
    "text_sha256",
    "language",
    "keywords",
    "people",
    "relevance",
    "outlet_id",
)


def test_import_gives_the_articles_a_live_crawl_gives(demo_archive, demo_records, demo_topic, tmp_path):
    """The pages the live crawl fetched, imported from a WARC: the same articles, texts and dates."""
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records)
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    columns = ", ".join(ARTICLE_FIELDS)
    live = rows(demo_archive, f"SELECT {columns} FROM articles ORDER BY url")
    imported = rows(db, f"SELECT {columns} FROM articles ORDER BY url")
    assert len(live) >= 20
    assert imported == live
    copies = "SELECT c.url, a.url, c.published_day FROM copies c JOIN articles a ON a.id = c.article_id ORDER BY c.url"
    assert rows(db, copies) == rows(demo_archive, copies)
    assert rows(db, "SELECT DISTINCT source FROM articles") == [("warc",)]


def test_import_respects_takedowns(demo_records, demo_topic, tmp_path):
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records)
    taken = on_topic(demo_records).url
    Archive(db).close()
    result = CliRunner().invoke(main, ["takedown", "add", taken, "--reason", "asked by the author", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    assert rows(db, "SELECT count(*) FROM captures WHERE url = ? OR final_url = ?", (taken, taken)) == [(0,)]
    assert rows(db, "SELECT count(*) FROM rejects WHERE url = ?", (taken,)) == [(0,)]
    assert import_file_row(db)["takedowns_skipped"] == 1


@pytest.fixture
def file_server(tmp_path, serve_site):
    """The test's files over HTTP on 127.0.0.1 (port 0)."""
    return serve_site(fallback=Files(tmp_path)).url()


def test_import_over_http_from_an_allowed_network(demo_records, demo_topic, tmp_path, file_server):
    write_warc(tmp_path / "pages.warc.gz", demo_records[:10])
    url, db = f"{file_server}/pages.warc.gz", tmp_path / "archive.db"
    result = run_import(url, "--db", str(db), "--topic", str(demo_topic), "--workers", "0", "--allow-network", "127.0.0.1/32")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT DISTINCT record_file FROM captures") == [(url,)]
    assert import_file_row(db)["location"] == url


def test_import_over_http_refuses_loopback_unless_allowed(demo_records, demo_topic, tmp_path, file_server):
    write_warc(tmp_path / "pages.warc.gz", demo_records[:3])
    db = tmp_path / "archive.db"
    result = run_import(f"{file_server}/pages.warc.gz", "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1
    assert "not a public address (loopback)" in result.output and "--allow-network" in result.output
    assert not db.exists()


def test_import_reports_a_missing_remote_file(demo_topic, tmp_path, file_server):
    db = tmp_path / "archive.db"
    result = run_import(
        f"{file_server}/nothing.warc.gz",
        "--db",
        str(db),
        "--topic",
        str(demo_topic),
        "--workers",
        "0",
        "--allow-network",
        "127.0.0.1/32",
    )
    assert result.exit_code == 1
    assert "the server answered 404" in result.output
    assert import_file_row(db)["errors"] == 1


@pytest.mark.parametrize(
    "location, message",
    [
        ("missing.warc.gz", "no such file"),
        ("ftp://example.org/pages.warc.gz", "only local paths and http(s) URLs"),
        ("http://10.1.2.3/pages.warc.gz", "not a public address (private)"),
    ],
)
def test_import_refuses_bad_locations_before_starting(demo_topic, tmp_path, location, message):
    db = tmp_path / "archive.db"
    result = run_import(location, "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not db.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"just some notes, not a web archive\n" * 20, "not a WARC, WARC.gz or WACZ file (it starts with 'just some notes,')"),
        (None, "not a WACZ"),
    ],
)
def test_import_reports_files_that_are_not_web_archives(demo_topic, tmp_path, content, message):
    path, db = tmp_path / "notes.warc", tmp_path / "archive.db"
    if content is None:
        import zipfile

        path = tmp_path / "photos.wacz"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("photo.txt", "hello")
    else:
        path.write_bytes(content)
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert rows(db, "SELECT count(*) FROM captures") == [(0,)]
    assert import_file_row(db)["errors"] == 1


def test_import_decodes_bodies_stored_as_served(demo_archive, demo_records, demo_topic, tmp_path):
    """Browsertrix and Heritrix keep responses as served: gzip content encoding, chunked
    transfer. The page stored is the decoded HTML, and its headers say so."""
    import gzip as gzip_module

    article = on_topic(demo_records)
    served = Record(
        article.url, gzip_module.compress(article.body), extra_headers=[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
    )
    path, db = tmp_path / "served.warc.gz", tmp_path / "archive.db"
    write_warc(path, [served])
    assert run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").exit_code == 0
    title = rows(demo_archive, "SELECT title FROM articles WHERE url = ?", (article.url,))
    assert rows(db, "SELECT title FROM articles") == title
    (headers,) = rows(db, "SELECT headers FROM captures")[0]
    assert "content-encoding" not in json.loads(headers) and json.loads(headers)["vary"] == ["Accept-Encoding"]
