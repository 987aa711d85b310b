"""`clippings import` of URLs against a loopback server that misbehaves: a body or headers sent a
byte at a time (the total deadline, IMPORT_DOWNLOAD_TIMEOUT), a body larger than
IMPORT_DOWNLOAD_MAXSIZE (announced or not), a connection that breaks in the middle (resumed with a
Range request); and `-s NAME=VALUE` for import and reextract, read through the crawl's settings."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from clippings.cli import main
from tests.conftest import rows
from tests.sites import Answer, Route, Site, drip_body, drip_headers, unannounced
from tests.test_import import demo_records, demo_topic, import_file_row  # noqa: F401 (fixtures)
from tests.warcfiles import write_warc

ALLOW = ("--allow-network", "127.0.0.1/32")


# Each path one misbehaviour, on the body the test gives; the breaking ones stop half way the
# first time (their Content-Length says all), and are whole after, from the Range asked for or not.
BREAKING = {"/breaks-once.warc.gz", "/breaks-ignores-range.warc.gz"}


def misbehaving(body: bytes) -> dict[str, Answer | Route]:
    return {
        "/drip-body.warc.gz": drip_body(body),
        "/drip-headers.warc.gz": drip_headers,
        "/huge-announced.warc.gz": Answer(200, body, ()),
        "/huge-unannounced.warc.gz": unannounced(body),
        "/breaks-once.warc.gz": Answer(200, body, ()),
        "/breaks-ignores-range.warc.gz": Answer(200, body, (), ranges=False),
    }


@pytest.fixture
def misbehaving_site(serve_site) -> Callable[[bytes], Site]:
    def start(body: bytes) -> Site:
        site = serve_site(misbehaving(body))
        site.break_once.update(BREAKING)
        return site

    return start


@pytest.fixture
def warc_bytes(demo_records, tmp_path) -> bytes:
    write_warc(tmp_path / "pages.warc.gz", demo_records[:12])
    return (tmp_path / "pages.warc.gz").read_bytes()


def run_import(*args: str):
    return CliRunner().invoke(main, ["import", *args, "--workers", "0"], catch_exceptions=False)


@pytest.mark.parametrize("path", ["/drip-body.warc.gz", "/drip-headers.warc.gz"])
@pytest.mark.slow
def test_import_of_a_url_has_a_total_deadline(demo_topic, tmp_path, warc_bytes, path, misbehaving_site):
    """A server sending a byte every 0.1 s never lets a read time out; the deadline ends it."""
    db = tmp_path / "archive.db"
    server = misbehaving_site(warc_bytes)
    result = run_import(
        server.url() + path, "--db", str(db), "--topic", str(demo_topic), *ALLOW, "-s", "IMPORT_DOWNLOAD_TIMEOUT=2"
    )
    assert result.exit_code == 1
    assert f"{server.url()}{path}: not downloaded within 2 s (IMPORT_DOWNLOAD_TIMEOUT)" in result.output
    assert import_file_row(db)["status"] == "unreadable"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/huge-announced.warc.gz", "3000000 bytes, more than IMPORT_DOWNLOAD_MAXSIZE (1000000)"),
        ("/huge-unannounced.warc.gz", "more than IMPORT_DOWNLOAD_MAXSIZE (1000000) bytes"),
    ],
)
def test_import_of_a_url_has_a_size_cap(demo_topic, tmp_path, path, message, misbehaving_site):
    db = tmp_path / "archive.db"
    server = misbehaving_site(b"\x1f\x8b\x08" + b"\x00" * 2999997)
    result = run_import(
        server.url() + path, "--db", str(db), "--topic", str(demo_topic), *ALLOW, "-s", "IMPORT_DOWNLOAD_MAXSIZE=1000000"
    )
    assert result.exit_code == 1
    assert f"{server.url()}{path}: {message}" in result.output
    assert import_file_row(db)["status"] == "unreadable"


@pytest.mark.parametrize(
    "path, ranges",
    [
        ("/breaks-once.warc.gz", [None, "bytes={half}-"]),
        ("/breaks-ignores-range.warc.gz", [None, "bytes={half}-"]),  # answered with the whole file again
    ],
)
def test_import_of_a_url_goes_on_after_a_broken_connection(demo_topic, tmp_path, warc_bytes, path, ranges, misbehaving_site):
    db = tmp_path / "archive.db"
    local = tmp_path / "local.db"
    (tmp_path / "same.warc.gz").write_bytes(warc_bytes)
    assert run_import(str(tmp_path / "same.warc.gz"), "--db", str(local), "--topic", str(demo_topic)).exit_code == 0
    server = misbehaving_site(warc_bytes)
    result = run_import(server.url() + path, "--db", str(db), "--topic", str(demo_topic), *ALLOW)
    assert result.exit_code == 0, result.output
    half = len(warc_bytes) // 2
    assert list(zip(server.requests, server.ranges)) == [(path, r and r.format(half=half)) for r in ranges]
    sql = "SELECT url, title, text_sha256 FROM articles ORDER BY url"
    assert rows(db, sql) == rows(local, sql) and rows(db, sql)
    assert import_file_row(db)["status"] == "complete"


def test_import_reads_allowed_networks_from_settings_too(demo_topic, tmp_path, warc_bytes, misbehaving_site):
    db = tmp_path / "archive.db"
    server = misbehaving_site(warc_bytes)
    result = run_import(
        server.url() + "/breaks-once.warc.gz",
        "--db",
        str(db),
        "--topic",
        str(demo_topic),
        "-s",
        "ALLOWED_PRIVATE_NETWORKS=127.0.0.1/32",
    )
    assert result.exit_code == 0, result.output


# --- -s NAME=VALUE ----------------------------------------------------------------


def test_import_takes_settings_like_crawl(demo_records, demo_topic, tmp_path):
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records)
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "-s", "MIN_ARTICLE_WORDS=100000")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]
    reasons = {r for (r,) in rows(db, "SELECT reason FROM rejects WHERE stage = 'extract'")}
    assert any(r.endswith("words, minimum 100000)") for r in reasons)


def test_reextract_takes_settings_like_crawl(demo_archive, tmp_path):
    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    before = rows(db, "SELECT count(*) FROM articles")[0][0]
    result = CliRunner().invoke(main, ["reextract", "--db", str(db), "--workers", "0", "-s", "MIN_ARTICLE_WORDS=100000"])
    assert result.exit_code == 0, result.output
    assert f"{before} withdrawn" in result.output
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]


@pytest.mark.parametrize(
    "command, setting, message",
    [
        ("import", "MIN_ARTICLE_WORDS=many", "MIN_ARTICLE_WORDS must be a number, not 'many'"),
        ("import", "IMPORT_DOWNLOAD_TIMEOUT=0", "IMPORT_DOWNLOAD_TIMEOUT must be at least 1, not '0'"),
        ("import", "ALLOWED_PRIVATE_NETWORKS=localhost", "ALLOWED_PRIVATE_NETWORKS: 'localhost' is not a network"),
        ("import", "nonsense", "'nonsense' is not NAME=VALUE"),
        ("reextract", "BOILERPLATE_MIN_ARTICLES=three", "BOILERPLATE_MIN_ARTICLES must be a number, not 'three'"),
    ],
)
def test_a_wrong_setting_is_one_sentence(demo_archive, demo_topic, tmp_path, command, setting, message):
    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    args = ["import", str(tmp_path / "nothing.warc"), "--topic", str(demo_topic)] if command == "import" else ["reextract"]
    result = CliRunner().invoke(main, [*args, "--db", str(db), "-s", setting])
    assert result.exit_code in (1, 2) and message in result.output and "Traceback" not in result.output
    assert rows(db, "SELECT count(*) FROM crawl_runs WHERE spider = 'import'") == [(0,)]
