"""`clippings import --cc-news` against a loopback server laid out like data.commoncrawl.org
(crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz and the files they list, served with Range support):
the files of the window, missing months, a killed import resumed file by file, Dask."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from clippings.cli import main
from pipelines.sources.ccnews import listed_paths, months
from tests.conftest import PROJECT_ROOT, rows
from tests.sites import Files, Site
from tests.test_import import demo_records  # noqa: F401 (fixture of demo_articles)
from tests.test_import_faults import articles, demo_articles  # noqa: F401 (fixture)
from tests.test_scaleout import dask_scheduler  # noqa: F401 (fixture)
from tests.warcfiles import write_warc

# The demo topic's window is 2017-10-01..2018-01-31; ARCHIVE_CAPTURE_MARGIN_DAYS (30) takes the
# default range to 2018-03-02. No listing for 2017/12, 2018/01 or 2018/02.
FILES = {
    "A": "2017/09/CC-NEWS-20170930230000-00001",  # before the window
    "B": "2017/10/CC-NEWS-20171002080000-00002",
    "C": "2017/10/CC-NEWS-20171016120000-00003",
    "D": "2017/11/CC-NEWS-20171120000000-00004",
    "E": "2018/03/CC-NEWS-20180302235959-00005",  # the last second of the range
    "F": "2018/03/CC-NEWS-20180303000000-00006",  # after it
}
IN_WINDOW = "BCDE"


def file_path(name: str) -> str:
    return f"/crawl-data/CC-NEWS/{FILES[name]}.warc.gz"


def listing_path(month: str) -> str:
    return f"/crawl-data/CC-NEWS/{month}/warc.paths.gz"


@pytest.fixture(scope="module")
def data_host(demo_articles, demo_archive, tmp_path_factory) -> tuple[Path, dict[str, list[str]], Path]:
    """The host's folder, the article URLs in each file, and the demo topic."""
    folder = tmp_path_factory.mktemp("data")
    chosen = articles(demo_articles, 2 * len(FILES))
    urls = {}
    for number, name in enumerate(FILES):
        records = chosen[2 * number : 2 * number + 2]
        path = folder / file_path(name).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_warc(path, records)
        urls[name] = [r.url for r in records]
    by_month: dict[str, list[str]] = {}
    for name, stem in FILES.items():
        by_month.setdefault(stem[:7], []).append(f"crawl-data/CC-NEWS/{stem}.warc.gz")
    for month, paths in by_month.items():
        (folder / listing_path(month).lstrip("/")).write_bytes(gzip.compress("\n".join(paths).encode() + b"\n"))
    topic = folder / "topic.yml"
    topic.write_text(rows(demo_archive, "SELECT yaml FROM topics")[0][0])
    return folder, urls, topic


@pytest.fixture
def server(data_host):
    with Site(fallback=Files(data_host[0])) as host:
        yield host


def cc_news_args(server, db: Path, topic: Path, *extra: str) -> list[str]:
    return [
        "import",
        "--cc-news",
        "--db",
        str(db),
        "--topic",
        str(topic),
        "--allow-network",
        "127.0.0.1/32",
        "-s",
        f"COMMONCRAWL_DATA_URL={server.url()}/",
        *extra,
    ]


def imported(db: Path) -> set[str]:
    return {url for (url,) in rows(db, "SELECT url FROM captures")}


def expected(data_host, names: str) -> set[str]:
    return {url for name in names for url in data_host[1][name]}


def fetched_files(server) -> list[str]:
    return [path for path in server.requests if path.endswith(".warc.gz")]


def test_cc_news_imports_the_files_of_the_window_and_its_margin(data_host, server, tmp_path):
    db, topic = tmp_path / "archive.db", data_host[2]
    result = CliRunner().invoke(main, cc_news_args(server, db, topic, "--workers", "0"))
    assert result.exit_code == 0, result.output
    assert imported(db) == expected(data_host, IN_WINDOW)
    assert fetched_files(server) == [file_path(name) for name in IN_WINDOW]
    listings = ["2017/10", "2017/11", "2017/12", "2018/01", "2018/02", "2018/03"]
    assert [p for p in server.requests if p.endswith("paths.gz")] == [listing_path(m) for m in listings]
    assert "CC-NEWS 2017/10: 2 files in range" in result.output
    assert "CC-NEWS 2017/12: no listing (" in result.output and "404" in result.output
    assert "CC-NEWS 2017-10-01..2018-03-02: 4 files to import" in result.output
    statuses = rows(db, "SELECT location, status FROM import_files ORDER BY id")
    assert statuses == [(server.url() + file_path(name), "complete") for name in IN_WINDOW]


def test_cc_news_takes_from_and_to(data_host, server, tmp_path):
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        main, cc_news_args(server, db, data_host[2], "--workers", "0", "--from", "2017-09-30", "--to", "2017-10-10")
    )
    assert result.exit_code == 0, result.output
    assert imported(db) == expected(data_host, "AB")
    assert fetched_files(server) == [file_path("A"), file_path("B")]


@pytest.mark.slow
def test_cc_news_resumes_a_killed_import_file_by_file(data_host, server, tmp_path):
    """Killed while it fetches D: the next run fetches D and E only, and ends with the archive an
    uninterrupted run gives."""
    db, topic = tmp_path / "archive.db", data_host[2]
    server.holds[file_path("D")] = threading.Event()
    process = subprocess.Popen(
        [sys.executable, "-m", "clippings", *cc_news_args(server, db, topic, "--workers", "0")],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: file_path("D") in server.requests, process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        server.holds[file_path("D")].set()
    first_run = rows(db, "SELECT location, status FROM import_files ORDER BY id")
    assert first_run == [(server.url() + file_path(n), s) for n, s in zip("BCD", ["complete", "complete", "incomplete"])]
    server.requests.clear()
    result = CliRunner().invoke(main, cc_news_args(server, db, topic, "--workers", "0"))
    assert result.exit_code == 0, result.output
    assert fetched_files(server) == [file_path("D"), file_path("E")]
    assert (
        f"{server.url()}{file_path('B')}: read to its end by an earlier run with this topic; not fetched again" in result.output
    )
    assert imported(db) == expected(data_host, IN_WINDOW)
    second_run = rows(db, "SELECT location, status FROM import_files ORDER BY id")[3:]
    assert second_run == [
        (server.url() + file_path(n), s) for n, s in zip("BCDE", ["already imported", "already imported", "complete", "complete"])
    ]


def wait_until(condition, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the import ended (exit {process.returncode}) first")
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s")
        time.sleep(0.05)


def test_cc_news_reads_a_file_again_for_another_topic(data_host, server, tmp_path):
    """A file read with one topic may hold pages another topic's prefilter lets through."""
    db, topic = tmp_path / "archive.db", data_host[2]
    other = tmp_path / "other.yml"
    changed = yaml.safe_load(topic.read_text())
    changed["keywords"].append("film producer")
    other.write_text(yaml.safe_dump(changed))
    window = ("--from", "2017-10-02", "--to", "2017-10-02")
    for path in (topic, topic, other):
        assert CliRunner().invoke(main, cc_news_args(server, db, path, "--workers", "0", *window)).exit_code == 0
    assert fetched_files(server) == [file_path("B"), file_path("B")]


@pytest.mark.slow
def test_cc_news_on_dask_gives_what_the_local_pool_gives(data_host, server, tmp_path, dask_scheduler):
    local, on_dask = tmp_path / "local.db", tmp_path / "dask.db"
    assert CliRunner().invoke(main, cc_news_args(server, local, data_host[2], "--workers", "2")).exit_code == 0
    result = CliRunner().invoke(main, cc_news_args(server, on_dask, data_host[2], "--scheduler", dask_scheduler))
    assert result.exit_code == 0, result.output
    sql = "SELECT url, title, text_sha256, published_day FROM articles ORDER BY url"
    assert rows(on_dask, sql) == rows(local, sql) and len(rows(local, sql)) == 2 * len(IN_WINDOW)


def test_cc_news_unreadable_listing_is_reported_and_the_rest_imported(data_host, server, tmp_path):
    month = data_host[0] / listing_path("2017/11").lstrip("/")
    kept = month.read_bytes()
    month.write_bytes(b"\x1f\x8b\x08 not really gzip")
    try:
        result = CliRunner().invoke(main, cc_news_args(server, tmp_path / "archive.db", data_host[2], "--workers", "0"))
    finally:
        month.write_bytes(kept)
    assert result.exit_code == 1
    assert "CC-NEWS 2017/11: the listing is not readable gzip" in result.output
    assert "some CC-NEWS listings could not be read" in result.output
    assert imported(tmp_path / "archive.db") == expected(data_host, "BCE")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give PATH_OR_URL... or --cc-news"),
        (["--cc-news", "some.warc.gz"], "give PATH_OR_URL... or --cc-news"),
        (["some.warc.gz", "--from", "2017-10-01"], "--from and --to go with --cc-news"),
        (["--cc-news", "--from", "2017-10-10", "--to", "2017-10-01"], "--to (2017-10-01) is before --from (2017-10-10)"),
    ],
)
def test_cc_news_usage_errors(tmp_path, args, message):
    result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "a.db"), *args])
    assert result.exit_code == 2 and message in result.output


# --- the listing, as functions ------------------------------------------------------


def test_months_cover_the_range_across_years():
    assert months(dt.date(2017, 11, 30), dt.date(2018, 2, 1)) == [(2017, 11), (2017, 12), (2018, 1), (2018, 2)]


def test_listed_paths_keeps_cc_news_file_paths_only():
    good = [
        "crawl-data/CC-NEWS/2017/10/CC-NEWS-20171002080000-00002.warc.gz",
        "crawl-data/CC-NEWS/2017/10/CC-NEWS-20171001000000-00001.warc.gz",
    ]
    hostile = [
        "https://elsewhere.example/CC-NEWS-20171002080000-00002.warc.gz",
        "crawl-data/CC-NEWS/2017/10/../../../etc/CC-NEWS-20171002080000-00009.warc.gz",
        "crawl-data/CC-NEWS/2017/13/CC-NEWS-20171302080000-00003.warc.gz",  # no 13th month
        "crawl-data/CC-MAIN-2017-43/segments/x.warc.gz",
        "",
        "#comment",
    ]
    listing = gzip.compress("\n".join(good + hostile + good).encode())
    assert listed_paths(listing) == sorted(good)
    assert listed_paths("\n".join(good).encode()) == sorted(good)  # served inflated


def test_listed_paths_refuses_a_listing_that_inflates_without_end():
    with pytest.raises(ValueError, match="the listing inflates to more than"):
        listed_paths(gzip.compress(b"\n" * (20 * 1024 * 1024)))


def test_cc_news_from_a_refused_data_host_is_one_sentence(data_host, server, tmp_path):
    args = [a for a in cc_news_args(server, tmp_path / "a.db", data_host[2]) if a not in ("--allow-network", "127.0.0.1/32")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "not a public address (loopback)" in result.output
    assert server.requests == [] and not (tmp_path / "a.db").exists()


@pytest.mark.slow
def test_cc_news_goes_on_with_a_range_request_where_a_file_breaks_off(data_host, server, tmp_path):
    server.break_once.add(file_path("C"))
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(main, cc_news_args(server, db, data_host[2], "--workers", "0", "--to", "2017-10-31"))
    assert result.exit_code == 0, result.output
    size = (data_host[0] / file_path("C").lstrip("/")).stat().st_size
    assert fetched_files(server) == [file_path("B"), file_path("C"), file_path("C")]
    assert server.fallback.ranges[-1] == f"bytes={size // 2}-"
    assert imported(db) == expected(data_host, "BC")
