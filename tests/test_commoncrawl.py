"""The commoncrawl spider end to end: pywb as a Common Crawl style index, WARC records fetched with
Range requests from a loopback file server, a real `scrapy crawl` into a temporary archive."""

import gzip
import json
import subprocess

import pytest

from .conftest import PROJECT_ROOT, SCRAPY_ENV, rows, scrapy_command, scrapy_crawl
from .sites import Files, Site
from .webarchives import NORTHFIELD, TOPIC, archived_warcs, copy_warcs, expected_articles, pywb_archive  # noqa: F401 (fixtures)

CRAWLS = "CC-MAIN-2017-43,CC-MAIN-2017-47"


@pytest.fixture
def data_server(tmp_path, archived_warcs):
    with Site(fallback=Files(copy_warcs(tmp_path / "data", list(archived_warcs.values())))) as server:
        yield server


def crawl(pywb, data, tmp_path, *args):
    return scrapy_crawl(
        "commoncrawl",
        tmp_path,
        TOPIC,
        "-s",
        f"COMMONCRAWL_INDEX_URL={pywb.url}/{{crawl}}/cdx",
        "-s",
        f"COMMONCRAWL_DATA_URL={data.url()}/",
        *args,
    )


def test_commoncrawl_keeps_the_windows_articles_from_warc_records(pywb_archive, data_server, tmp_path):
    db, log = crawl(pywb_archive, data_server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    articles = rows(db, "SELECT url, source FROM articles")
    assert {url for url, _ in articles} == expected_articles()
    assert {source for _, source in articles} == {"commoncrawl"}
    assert all(r and r.startswith("bytes=") for r in data_server.fallback.ranges)


def test_commoncrawl_records_the_warc_records_location_and_date(pywb_archive, data_server, tmp_path, archived_warcs):
    db, _ = crawl(pywb_archive, data_server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    url = f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"
    [(source, archived_at, record_file, offset, length)] = rows(
        db, "SELECT source, archived_at, record_file, record_offset, record_length FROM captures WHERE url = ?", (url,)
    )
    assert (source, archived_at, record_file) == (
        "commoncrawl",
        "2017-10-16T12:00:00+00:00",
        f"{data_server.url()}/northfield.warc.gz",
    )
    record = archived_warcs["northfield"].read_bytes()[offset : offset + length]
    assert url.encode() in gzip.decompress(record)


def test_commoncrawl_picks_the_crawls_covering_the_window_from_collinfo(pywb_archive, data_server, tmp_path):
    collinfo = [
        {"id": "CC-MAIN-2017-51", "from": "2017-12-10T00:00:00", "to": "2017-12-19T00:00:00"},
        {"id": "CC-MAIN-2017-47", "from": "2017-11-17T00:00:00", "to": "2017-11-25T00:00:00"},
        {"id": "CC-MAIN-2017-43", "from": "2017-10-16T00:00:00", "to": "2017-10-24T00:00:00"},
        {"id": "CC-MAIN-2017-34"},  # no dates: read as weeks 32-34 of 2017, before the window
    ]
    (data_server.fallback.folder / "collinfo.json").write_text(json.dumps(collinfo))
    db, log = crawl(pywb_archive, data_server, tmp_path, "-s", f"COMMONCRAWL_COLLINFO_URL={data_server.url()}/collinfo.json")
    # The window ends 2017-10-31 and captures count for 30 days more: 2017-51 starts after that.
    assert "Common Crawl crawls: CC-MAIN-2017-43, CC-MAIN-2017-47" in log
    assert {url for (url,) in rows(db, "SELECT url FROM articles")} == expected_articles()


def test_commoncrawl_gives_the_same_articles_as_wayback(pywb_archive, data_server, tmp_path):
    (tmp_path / "cc").mkdir()
    (tmp_path / "wb").mkdir()
    common, _ = crawl(pywb_archive, data_server, tmp_path / "cc", "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    wayback, _ = scrapy_crawl(
        "wayback",
        tmp_path / "wb",
        TOPIC,
        "-s",
        f"WAYBACK_CDX_URL={pywb_archive.url}/archive/cdx",
        "-s",
        f"WAYBACK_REPLAY_URL={pywb_archive.url}/archive/{{timestamp}}id_/{{url}}",
    )
    sql = "SELECT url, title, text, published_at, published_source, outlet_id FROM articles ORDER BY url"
    assert rows(common, sql) == rows(wayback, sql) and len(rows(common, sql)) == 3
    assert rows(common, "SELECT DISTINCT source FROM articles") == [("commoncrawl",)]
    assert rows(wayback, "SELECT DISTINCT source FROM articles") == [("wayback",)]


def test_commoncrawl_rerun_adds_nothing_twice(pywb_archive, data_server, tmp_path):
    db, _ = crawl(pywb_archive, data_server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    tables = ("articles", "captures", "capture_bodies", "rejects", "mentions")
    before = {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables}
    db, log = crawl(pywb_archive, data_server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    assert {t: rows(db, f"SELECT count(*) FROM {t}") for t in tables} == before


def test_commoncrawl_corrupt_record_is_a_fetch_failure(pywb_archive, tmp_path, archived_warcs):
    folder = copy_warcs(tmp_path / "data", list(archived_warcs.values()))
    corrupt = folder / "northfield.warc.gz"
    data = bytearray(corrupt.read_bytes())
    data[40:400] = b"\x00" * 360  # inside the first record (the accusers article)
    corrupt.write_bytes(bytes(data))
    with Site(fallback=Files(folder)) as server:
        db, log = crawl(pywb_archive, server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    url = f"{NORTHFIELD}/2017/10/16/weinstein-accusers-speak-out/"
    [(error,)] = rows(db, "SELECT error FROM fetch_failures WHERE url = ?", (url,))
    assert error.startswith(f"unreadable WARC record at {server.url()}/northfield.warc.gz bytes ")
    assert {u for (u,) in rows(db, "SELECT url FROM articles")} == expected_articles() - {url}


def test_commoncrawl_server_without_range_support_is_a_fetch_failure(pywb_archive, tmp_path, archived_warcs):
    folder = copy_warcs(tmp_path / "data", list(archived_warcs.values()))
    with Site(fallback=Files(folder)) as server:
        server.fallback.honour_range = False
        db, _ = crawl(pywb_archive, server, tmp_path, "-s", f"COMMONCRAWL_CRAWLS={CRAWLS}")
    errors = {error for (error,) in rows(db, "SELECT error FROM fetch_failures")}
    assert errors and all("ignored the Range request (HTTP 200)" in e for e in errors)
    assert rows(db, "SELECT count(*) FROM captures") == [(0,)]


@pytest.mark.slow
def test_commoncrawl_unreadable_index_answer_is_a_fetch_failure(tmp_path, data_server):
    (data_server.fallback.folder / "CC-MAIN-2017-43").mkdir()
    (data_server.fallback.folder / "CC-MAIN-2017-43" / "cdx").write_text("<html>Service unavailable</html>")
    command, db, log = scrapy_command(
        "commoncrawl",
        tmp_path,
        TOPIC,
        "-s",
        f"COMMONCRAWL_INDEX_URL={data_server.url()}/{{crawl}}/cdx",
        "-s",
        "COMMONCRAWL_CRAWLS=CC-MAIN-2017-43",
        "-s",
        f"COMMONCRAWL_DATA_URL={data_server.url()}/",
    )
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    assert "Traceback" not in log.read_text()
    errors = [e for (e,) in rows(db, "SELECT error FROM fetch_failures")]
    assert errors and all(e.startswith("unreadable CDX answer: not a CDX answer") for e in errors)


@pytest.mark.slow
def test_commoncrawl_wrong_index_url_is_a_fetch_failure(tmp_path, data_server):
    db, _ = scrapy_crawl(
        "commoncrawl",
        tmp_path,
        TOPIC,
        "-s",
        f"COMMONCRAWL_INDEX_URL={data_server.url()}/nowhere/{{crawl}}",
        "-s",
        "COMMONCRAWL_CRAWLS=CC-MAIN-2017-43",
        "-s",
        f"COMMONCRAWL_DATA_URL={data_server.url()}/",
    )
    errors = [e for (e,) in rows(db, "SELECT error FROM fetch_failures")]
    assert errors and all(e == "HTTP 404 from the CDX server (is its URL setting right?)" for e in errors)


# --- archived responses as served: content encodings --------------------------------

ENCODED = {  # page path: (Content-Encoding, encoder)
    "/2017/10/16/weinstein-accusers-speak-out/": ("br", lambda body: __import__("brotli").compress(body)),
    "/news/a-survivors-account/": ("gzip", gzip.compress),
    "/2017/10/18/council-budget-vote-delayed/": ("x-unknown", lambda body: body),
}


def write_encoded_warc(path, pages) -> None:
    """The pages as a web archive keeps responses as served: some with a content encoding."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as output:
        writer = WARCWriter(output, gzip=True)
        for page in pages:
            encoding, encode = ENCODED.get(page.url.removeprefix(NORTHFIELD), (None, None))
            body = encode(page.body) if encode else page.body
            headers = [("Content-Type", page.content_type), ("Content-Length", str(len(body)))]
            headers += [("Content-Encoding", encoding)] if encoding else []
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    page.url,
                    "response",
                    payload=io.BytesIO(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": page.warc_date},
                )
            )


@pytest.fixture(scope="module")
def encoded_archive(tmp_path_factory):
    """Northfield's pages with a brotli, a gzip and an unknown encoding, indexed by pywb as
    CC-MAIN-2017-43 and served with Range support."""
    from .webarchives import Pywb, northfield_pages

    folder = tmp_path_factory.mktemp("encoded")
    warc = folder / "data" / "northfield-encoded.warc.gz"
    warc.parent.mkdir()
    write_encoded_warc(warc, northfield_pages())
    with (
        Pywb(tmp_path_factory.mktemp("pywb-encoded"), {"CC-MAIN-2017-43": [warc]}) as pywb,
        Site(fallback=Files(warc.parent)) as data,
    ):
        yield pywb, data


def test_commoncrawl_decodes_brotli_and_gzip_records_and_reports_an_unknown_encoding(encoded_archive, tmp_path):
    pywb, data = encoded_archive
    db, log = crawl(pywb, data, tmp_path, "-s", "COMMONCRAWL_CRAWLS=CC-MAIN-2017-43")
    accusers, survivor, council = (NORTHFIELD + path for path in ENCODED)
    assert dict(rows(db, "SELECT url, title FROM articles")) == {
        accusers: "Harvey Weinstein accusers speak out",
        survivor: "A survivor's account",
    }
    headers = json.loads(rows(db, "SELECT headers FROM captures WHERE url = ?", (accusers,))[0][0])
    assert "content-encoding" not in headers
    [(error,)] = rows(db, "SELECT error FROM fetch_failures WHERE url = ?", (council,))
    assert error.startswith(f"unreadable WARC record at {data.url()}/northfield-encoded.warc.gz bytes ")
    assert error.endswith("an unknown Content-Encoding 'x-unknown'")
