"""The command line: extract on saved pages, and one clear sentence for each user mistake."""

import gzip
import json

import pytest
from click.testing import CliRunner

from clippings.cli import main

from .conftest import PROJECT_ROOT

PAGE = PROJECT_ROOT / "tests" / "pages" / "jsonld_article.html"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_extract_prints_one_json_object_per_file_in_order(tmp_path):
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(PAGE.read_bytes()))
    empty = tmp_path / "empty.html"
    empty.write_text("")
    result = invoke("extract", PAGE, empty, packed, "--url", "https://www.testgazette.example/2017/10/10/accusers/")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["source"] for r in records] == [str(PAGE), str(empty), str(packed)]
    first = records[0]
    assert set(first) >= {"source", "url", "title", "authors", "published", "published_source", "language", "sitename", "text"}
    assert first["title"] == "Accusers describe years of abuse"
    assert first["published"] == "2017-10-10T22:15:00-04:00" and first["published_source"] == "json-ld"
    assert records[1]["text"] is None and records[1]["error"] == "empty page"
    assert records[2]["text"] == first["text"]


def test_extract_reads_the_page_on_the_outlets_clock(tmp_path):
    """22:15 in New York is the next day in Paris, by --timezone or by the outlet's zone in --topic."""
    url = "https://www.testgazette.example/2017/10/10/accusers/"
    plain = json.loads(invoke("extract", PAGE, "--url", url).output)
    assert (plain["published_day"], plain["published_utc_day"]) == ("2017-10-10", "2017-10-11")
    zoned = json.loads(invoke("extract", PAGE, "--url", url, "--timezone", "Europe/Paris").output)
    assert zoned["published"] == "2017-10-11T04:15:00+02:00" and zoned["published_day"] == "2017-10-11"
    topic = tmp_path / "topic.yml"
    topic.write_text(
        "name: t\nwindow: {start: 2017-10-01, end: 2018-01-31}\nkeywords: [x]\npeople: [{name: A B, role: accused}]\n"
        "outlets: [{name: Gazette, domains: [testgazette.example], timezone: Asia/Tokyo}]\n"
    )
    by_topic = json.loads(invoke("extract", PAGE, "--url", url, "--topic", topic, "--timezone", "Europe/Paris").output)
    assert by_topic["published"] == "2017-10-11T11:15:00+09:00"


def test_extract_refuses_an_unknown_time_zone():
    result = invoke("extract", PAGE, "--timezone", "Mars/Olympus")
    assert result.exit_code == 2
    assert "'Mars/Olympus' is not an IANA time zone name" in result.output


def test_extract_manifest_gives_each_page_its_url(tmp_path):
    manifest = tmp_path / "list.jsonl"
    manifest.write_text(json.dumps({"path": str(PAGE), "url": "https://e.example/2017/10/11/x/"}) + "\n")
    result = invoke("extract", "--manifest", manifest)
    record = json.loads(result.output)
    assert record["url"] == "https://e.example/2017/10/11/x/"


def test_extract_manifest_bad_line_is_one_sentence(tmp_path):
    manifest = tmp_path / "list.jsonl"
    manifest.write_text("not json\n")
    result = invoke("extract", "--manifest", manifest)
    assert result.exit_code == 1
    assert "manifest line 1 is not a JSON object" in result.output


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (
            lambda p: p.joinpath("t.yml").write_text("window: ["),
            ["crawl", "--topic", "{d}/t.yml", "--db", "{d}/a.db"],
            "is not valid YAML",
        ),
        (None, ["crawl", "nosuchspider", "--db", "{d}/a.db"], "unknown spider 'nosuchspider'"),
        (None, ["serve", "--db", "{d}/missing.db"], "no archive at"),
        (lambda p: p.joinpath("a.db").write_bytes(b"x" * 4096), ["crawl", "--db", "{d}/a.db"], "not a readable SQLite archive"),
        (None, ["crawl", "--urls", "{d}/nourls.txt", "--db", "{d}/a.db"], "cannot read the URL file"),
        (None, ["crawl", "-s", "NOEQUALS", "--db", "{d}/a.db"], "is not NAME=VALUE"),
        (
            None,
            ["crawl", "-s", "ALLOWED_PRIVATE_NETWORKS=10.0.0.0/8,intranet", "--db", "{d}/a.db"],
            "'intranet' is not a network",
        ),
    ],
)
def test_cli_user_mistakes_get_one_clear_sentence(tmp_path, setup, args, message):
    if setup:
        setup(tmp_path)
    result = invoke(*[a.format(d=tmp_path) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_foreign_database_is_left_untouched(foreign_db):
    before = foreign_db.read_bytes()
    result = invoke("crawl", "--db", foreign_db)
    assert result.exit_code == 1 and "not a clippings archive" in result.output
    assert foreign_db.read_bytes() == before


def test_compact_batch_default_is_the_compaction_modules():
    """One default, written once (pipelines/store/compaction.py), shown in the help."""
    from pipelines.store.compaction import BATCH

    help_text = CliRunner().invoke(main, ["compact", "--help"]).output
    assert f"[default: {BATCH};" in " ".join(help_text.split())
