"""`clippings import` against hostile and broken web archive files, built here: content encodings
(br, gzip, deflate, zstd, stacked, unknown, corrupt), endless lines, decompression bombs, WACZ
members that are not WARCs or are listed twice. Every file is read to its end, every problem is
recorded with its reason, and memory stays bounded (measured with tracemalloc: the bound, not a time)."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard
from click.testing import CliRunner

from clippings.cli import main
from tests.conftest import rows
from tests.test_import import demo_records, demo_topic, import_file_row, on_topic  # noqa: F401 (fixtures)
from tests.warcfiles import Record, write_wacz, write_warc

MiB = 1 << 20


def run_import(*args: str):
    return CliRunner().invoke(main, ["import", *args, "--workers", "0"], catch_exceptions=False)


def file_rows(db: Path) -> dict[str, dict]:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    found = {Path(r["location"]).name: dict(r) for r in conn.execute("SELECT * FROM import_files ORDER BY id")}
    conn.close()
    return found


@pytest.fixture(scope="module")
def demo_articles(demo_archive, demo_records) -> list[Record]:
    """The WARC records of the demo's articles, one per article, at their article URL, in URL order."""
    urls = {
        u
        for (u,) in rows(demo_archive, "SELECT a.url FROM articles a JOIN captures c ON c.id = a.capture_id WHERE c.url = a.url")
    }
    return sorted((r for r in demo_records if r.url in urls), key=lambda r: r.url)


def articles(records: list[Record], count: int) -> list[Record]:
    """`count` distinct demo articles."""
    assert len(records) >= count
    return records[:count]


def encoded(record: Record, encoding: str, body: bytes, extra: list | None = None) -> Record:
    return Record(record.url, body, extra_headers=[("Content-Encoding", encoding), *(extra or [])])


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def chunked(data: bytes, size: int = 1000) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)]
    return b"".join(parts) + b"0\r\n\r\n"


ENCODINGS = {
    "br": lambda body: ("br", brotli.compress(body), []),
    "gzip": lambda body: ("gzip", gzip.compress(body), []),
    "x-gzip": lambda body: ("x-gzip", gzip.compress(body), []),
    "deflate": lambda body: ("deflate", zlib.compress(body), []),
    "raw deflate": lambda body: ("deflate", raw_deflate(body), []),
    "zstd": lambda body: ("zstd", zstandard.compress(body), []),
    "gzip then br": lambda body: ("gzip, br", brotli.compress(gzip.compress(body)), []),
    "chunked gzip": lambda body: ("gzip", chunked(gzip.compress(body)), [("Transfer-Encoding", "chunked")]),
}


@pytest.mark.parametrize("name", ENCODINGS)
def test_import_decodes_each_content_encoding(demo_archive, demo_records, demo_topic, tmp_path, name):
    """A real brotli (gzip, zstd...) body, as Browsertrix and Heritrix keep responses as served:
    the article is the live crawl's, and the stored headers describe the decoded bytes."""
    article = on_topic(demo_records)
    encoding, body, extra = ENCODINGS[name](article.body)
    path, db = tmp_path / "served.warc.gz", tmp_path / "archive.db"
    write_warc(path, [encoded(article, encoding, body, extra)])
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 0, result.output
    live = rows(demo_archive, "SELECT title, text_sha256 FROM articles WHERE url = ?", (article.url,))
    assert rows(db, "SELECT title, text_sha256 FROM articles") == live
    headers = json.loads(rows(db, "SELECT headers FROM captures")[0][0])
    assert not {"content-encoding", "transfer-encoding", "content-length"} & set(headers)
    assert import_file_row(db)["status"] == "complete"


UNDECODABLE = {
    "unknown encoding": ("x-snappy", lambda body: body, "an unknown Content-Encoding 'x-snappy'"),
    "corrupt br": ("br", lambda body: b"\xff" * 64 + body[:200], "corrupt br body"),
    "corrupt gzip": ("gzip", lambda body: body[:300], "corrupt gzip body"),
    "broken chunks": (
        "identity",
        lambda body: b"10\r\n" + body[:16] + b"\r\nzz\r\n" + body,
        "malformed chunked transfer encoding",
    ),
}


@pytest.mark.parametrize("name", UNDECODABLE)
def test_import_records_an_undecodable_body_and_reads_on(demo_articles, demo_topic, tmp_path, name):
    """The record is damage with its reason; the rest of the file and the next file are imported."""
    encoding, damage, reason = UNDECODABLE[name]
    first, second, third, bad = articles(demo_articles, 4)
    extra = [("Transfer-Encoding", "chunked")] if name == "broken chunks" else []
    one, two, db = tmp_path / "one.warc.gz", tmp_path / "two.warc", tmp_path / "archive.db"
    offsets = write_warc(one, [first, encoded(bad, encoding, damage(bad.body), extra), second])
    write_warc(two, [third])
    result = run_import(str(one), str(two), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "some records could not be imported" in result.output
    assert {u for (u,) in rows(db, "SELECT url FROM articles")} == {first.url, second.url, third.url}
    files = file_rows(db)
    assert files["one.warc.gz"]["status"] == "with errors" and files["two.warc"]["status"] == "complete"
    assert (files["one.warc.gz"]["damaged"], files["one.warc.gz"]["records"], files["one.warc.gz"]["pages"]) == (1, 4, 2)
    [problem] = json.loads(files["one.warc.gz"]["problems"])
    assert problem["offset"] == offsets[1] and problem["error"].startswith(f"{bad.url}: ") and reason in problem["error"]


@pytest.mark.slow
def test_import_skips_a_body_inflating_past_the_largest_page(demo_articles, demo_topic, tmp_path):
    """A brotli bomb (a few kB inflating to 64 MiB) counts as too large: inflated no further than
    DOWNLOAD_MAXSIZE, and the pages after it are imported."""
    first, second = articles(demo_articles, 2)
    bomb = encoded(first, "br", brotli.compress(b"<html>" + b" " * (64 * MiB)))
    path, db = tmp_path / "bomb.warc.gz", tmp_path / "archive.db"
    write_warc(path, [bomb, second])
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "-s", f"DOWNLOAD_MAXSIZE={MiB}")
    assert result.exit_code == 0, result.output
    row = import_file_row(db)
    assert (row["status"], row["skipped_too_large"], row["articles_added"]) == ("complete", 1, 1)


# --- bounded reading: endless lines, bombs --------------------------------------


@pytest.fixture(scope="module")
def warmed_up(tmp_path_factory, demo_articles, demo_archive):
    """One small import first, so that what the import loads once (models, modules) is not
    counted in the memory of the imports measured after it."""
    folder = tmp_path_factory.mktemp("warm")
    topic = folder / "topic.yml"
    import sqlite3

    conn = sqlite3.connect(demo_archive)
    topic.write_text(conn.execute("SELECT yaml FROM topics").fetchone()[0])
    conn.close()
    write_warc(folder / "warm.warc.gz", articles(demo_articles, 2))
    assert run_import(str(folder / "warm.warc.gz"), "--db", str(folder / "warm.db"), "--topic", str(topic)).exit_code == 0


def import_measured(*args: str) -> tuple:
    """The import's result and the peak of the memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        result = run_import(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def wacz_with(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:
    resources = [{"name": Path(name).name, "path": name} for name in members]
    with zipfile.ZipFile(path, "w", compression=compression) as wacz:
        for name, data in members.items():
            wacz.writestr(name, data)
        wacz.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": resources}))


def good_warc(tmp_path: Path, records: list[Record], name: str = "good.warc.gz") -> bytes:
    write_warc(tmp_path / name, records)
    return (tmp_path / name).read_bytes()


ENDLESS = 24 * MiB  # with warcio this line took 5 s and 3 times its size in memory; 64 MiB took 93 s


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
def test_wacz_member_with_an_endless_first_line_is_damage_read_in_bounded_memory(
    warmed_up, demo_articles, demo_topic, tmp_path, compression
):
    first, second = articles(demo_articles, 2)
    path, db = tmp_path / "endless.wacz", tmp_path / "archive.db"
    line = b"WARC/1.0" + os.urandom(ENDLESS).replace(b"\n", b" ")  # does not compress: no zip bomb
    wacz_with(path, {"archive/endless.warc": line, "archive/good.warc.gz": good_warc(tmp_path, [first, second])}, compression)
    result, peak = import_measured(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB for a {ENDLESS / MiB:.0f} MiB line"
    row = import_file_row(db)
    assert (row["status"], row["damaged"], row["articles_added"]) == ("with errors", 1, 2)
    [problem] = json.loads(row["problems"])
    assert problem["member"] == "archive/endless.warc" and problem["offset"] == 0
    assert problem["error"] == "no end of WARC headers within 1048576 bytes"


def gzip_member(data_parts) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(compressor.compress(part) for part in data_parts) + compressor.flush()


BOMB = 128  # MiB the member inflates to, from some 130 kB


def test_gzip_member_with_an_endless_first_line_is_damage_read_in_bounded_memory(warmed_up, demo_articles, demo_topic, tmp_path):
    first, second = articles(demo_articles, 2)
    line = gzip_member([b"WARC/1.0", os.urandom(ENDLESS).replace(b"\n", b" ")])  # does not compress: no bomb
    path, db = tmp_path / "endless.warc.gz", tmp_path / "archive.db"
    path.write_bytes(line + good_warc(tmp_path, [first, second]))
    result, peak = import_measured(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB"
    row = import_file_row(db)
    assert (row["status"], row["damaged"], row["articles_added"]) == ("with errors", 1, 2)
    assert [(p["offset"], p["error"]) for p in json.loads(row["problems"])] == [
        (0, "no end of WARC headers within 1048576 bytes")
    ]


def test_gzip_bomb_with_an_endless_first_line_is_damage_read_in_bounded_memory(warmed_up, demo_articles, demo_topic, tmp_path):
    """As reported: a member of some 130 kB inflating to 128 MiB of one line (with warcio, 1 GiB
    took 5 GB of memory)."""
    first, second = articles(demo_articles, 2)
    bomb = gzip_member([b"WARC/1.0"] + [b"a" * MiB] * BOMB)
    path, db = tmp_path / "bomb.warc.gz", tmp_path / "archive.db"
    path.write_bytes(bomb + good_warc(tmp_path, [first, second]))
    result, peak = import_measured(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB"
    row = import_file_row(db)
    assert (row["status"], row["damaged"], row["articles_added"]) == ("with errors", 1, 2)
    assert [(p["offset"], p["error"]) for p in json.loads(row["problems"])] == [
        (0, "a gzip member inflating to more than 100 times its size (a decompression bomb?)")
    ]


def test_gzip_bomb_record_is_damage_skipped_without_inflating_it(warmed_up, demo_articles, demo_topic, tmp_path):
    """A well-formed record whose block inflates 1,000 times: past WARC_MAX_INFLATION it is a
    bomb, skipped by looking for the next member in the compressed bytes."""
    first, second = articles(demo_articles, 2)
    head = (
        f"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: http://bomb.example/\r\nContent-Length: {BOMB * MiB}\r\n\r\n"
    ).encode()
    bomb = gzip_member([head] + [b"\x00" * MiB] * BOMB + [b"\r\n\r\n"])
    path, db = tmp_path / "bomb.warc.gz", tmp_path / "archive.db"
    path.write_bytes(bomb + good_warc(tmp_path, [first, second]))
    result, peak = import_measured(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB"
    row = import_file_row(db)
    assert (row["status"], row["damaged"], row["articles_added"]) == ("with errors", 1, 2)
    [problem] = json.loads(row["problems"])
    assert problem["offset"] == 0
    assert problem["error"] == "a gzip member inflating to more than 100 times its size (a decompression bomb?)"


def test_an_inflation_bound_set_higher_lets_the_member_through(demo_articles, demo_topic, tmp_path):
    first = articles(demo_articles, 1)[0]
    head = b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: http://zeros.example/\r\nContent-Length: %d\r\n\r\n" % (4 * MiB)
    path, db = tmp_path / "zeros.warc.gz", tmp_path / "archive.db"
    path.write_bytes(gzip_member([head, b"\x00" * (4 * MiB), b"\r\n\r\n"]) + good_warc(tmp_path, [first]))
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic), "-s", "WARC_MAX_INFLATION=2000")
    assert result.exit_code == 0, result.output
    row = import_file_row(db)
    assert (row["status"], row["records"], row["skipped_not_response"], row["articles_added"]) == ("complete", 3, 2, 1)


# --- WACZ members -----------------------------------------------------------------


def test_wacz_member_that_is_not_a_warc_is_damage(demo_articles, demo_topic, tmp_path):
    first, second = articles(demo_articles, 2)
    path, db = tmp_path / "mixed.wacz", tmp_path / "archive.db"
    wacz_with(
        path,
        {
            "archive/notes.warc": b"just some notes, not a web archive\n" * 100,
            "archive/good.warc.gz": good_warc(tmp_path, [first, second]),
        },
    )
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1
    row = import_file_row(db)
    assert (row["status"], row["damaged"], row["articles_added"]) == ("with errors", 1, 2)
    [problem] = json.loads(row["problems"])
    assert problem["member"] == "archive/notes.warc"
    assert problem["error"] == "no WARC record starts here (it starts with 'just some notes, not a w')"


def test_wacz_member_listed_twice_is_read_once(demo_articles, demo_topic, tmp_path):
    records = articles(demo_articles, 3)
    warc, path, db = tmp_path / "pages.warc.gz", tmp_path / "twice.wacz", tmp_path / "archive.db"
    write_warc(warc, records)
    write_wacz(path, {"pages.warc.gz": warc})
    with zipfile.ZipFile(path) as wacz:
        listed = json.loads(wacz.read("datapackage.json"))
    listed["resources"] *= 2
    rewritten = tmp_path / "listed-twice.wacz"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(rewritten, "w") as new:
        new.writestr("archive/pages.warc.gz", old.read("archive/pages.warc.gz"))
        new.writestr("datapackage.json", json.dumps(listed))
    result = run_import(str(rewritten), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 0, result.output
    row = import_file_row(db)
    assert (row["records"], row["pages"], row["articles_added"], row["articles_unchanged"]) == (4, 3, 3, 0)


def test_wacz_member_inflating_past_the_bound_is_damage(demo_articles, demo_topic, tmp_path):
    first = articles(demo_articles, 1)[0]
    path, db = tmp_path / "zipbomb.wacz", tmp_path / "archive.db"
    wacz_with(
        path,
        {"archive/zeros.warc": b"\x00" * (64 * MiB), "archive/good.warc.gz": good_warc(tmp_path, [first])},
        zipfile.ZIP_DEFLATED,
    )
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1
    row = import_file_row(db)
    assert (row["damaged"], row["articles_added"]) == (1, 1)
    [problem] = json.loads(row["problems"])
    assert (problem["member"], problem["error"]) == (
        "archive/zeros.warc",
        "a zip member inflating to more than 100 times its size (a decompression bomb?)",
    )


def test_a_record_quoting_control_characters_is_reported_safely(demo_articles, demo_topic, tmp_path):
    """A damaged record's URL goes into the problem text: escaped, never raw terminal escapes."""
    article = articles(demo_articles, 1)[0]
    hostile = Record(article.url + "\x1b[2J\u202e", b"x", extra_headers=[("Content-Encoding", "x-evil")])
    path, db = tmp_path / "escapes.warc", tmp_path / "archive.db"
    write_warc(path, [hostile])
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\u202e" not in result.output
    [problem] = json.loads(import_file_row(db)["problems"])
    assert "\\u001b[2J\\u202e: an unknown Content-Encoding 'x-evil'" in problem["error"]


def test_reader_bounds_do_not_change_what_a_clean_file_gives(demo_archive, demo_records, demo_topic, tmp_path):
    """The same pages, as a plain WARC, a gzipped one and one gzip stream for the whole file
    (as `gzip file.warc` makes it): the same articles."""
    plain, db = tmp_path / "pages.warc", tmp_path / "plain.db"
    write_warc(plain, demo_records)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    assert run_import(str(plain), "--db", str(db), "--topic", str(demo_topic)).exit_code == 0
    assert run_import(str(whole), "--db", str(tmp_path / "whole.db"), "--topic", str(demo_topic)).exit_code == 0
    sql = "SELECT url, title, text_sha256 FROM articles ORDER BY url"
    assert rows(db, sql) == rows(tmp_path / "whole.db", sql) == rows(demo_archive, sql)
    # one member: every record lies in it, from its start
    assert rows(tmp_path / "whole.db", "SELECT DISTINCT record_offset FROM captures") == [(0,)]
    assert import_file_row(tmp_path / "whole.db")["status"] == "complete"


def test_a_file_damaged_everywhere_lists_its_first_hundred_problems_and_counts_all(demo_articles, demo_topic, tmp_path):
    """A row rewritten with each batch, and memory, must not grow with every damaged record."""
    article = articles(demo_articles, 1)[0]
    bad = [Record(f"{article.url}?copy={n}", b"x", extra_headers=[("Content-Encoding", "x-evil")]) for n in range(150)]
    path, db = tmp_path / "everywhere.warc.gz", tmp_path / "archive.db"
    write_warc(path, [*bad, article])
    result = run_import(str(path), "--db", str(db), "--topic", str(demo_topic))
    assert result.exit_code == 1 and "  and 50 more problems, not listed" in result.output
    row = import_file_row(db)
    assert (row["damaged"], row["articles_added"]) == (150, 1)
    problems = json.loads(row["problems"])
    assert len(problems) == 101 and problems[-1]["error"] == "and 50 more, not listed"
