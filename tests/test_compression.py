"""Per-outlet compression dictionaries: trained once an outlet has enough pages, read back always,
never deleted while a body needs one, retrained without a taken-down page, gone from public releases;
`clippings compact` recompresses earlier bodies, and a SIGKILL in the middle loses nothing."""

import hashlib
import random
import signal
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from clippings.cli import main
from pipelines.core.items import FetchedPage
from pipelines.store.archive import Archive, ArchiveError
from pipelines.store.compression import Codecs, DictionaryPolicy, UnreadableBody

from .conftest import PROJECT_ROOT, scrapy_crawl
from .sites import DAY, html, page, site_with_sitemap

SAMPLES = 16
POLICY = DictionaryPolicy(samples=SAMPLES, size=16 * 1024)
SETTINGS = ["-s", f"COMPRESSION_DICTIONARY_SAMPLES={POLICY.samples}", "-s", f"COMPRESSION_DICTIONARY_SIZE={POLICY.size}"]
OUTLETS = ("gazette", "ledger", "wire")
WORDS = (
    "harbour council vote budget allegation producer studio statement lawyer survey witness report "
    "editor reporter office policy review police film festival industry complaint settlement"
).split()
NAMED = "Rosalind Quennell-Abernathy"  # the person a takedown protects


def chrome(outlet: str) -> tuple[str, str]:
    """The outlet's template around the article: navigation, a script, a footer (about 6 KB)."""
    rng = random.Random(outlet)
    nav = "".join(
        f'<li><a href="/section/{w}-{n}/" class="nav-link nav-{outlet}">{w.title()} {n}</a></li>'
        for n, w in enumerate(rng.choices(WORDS, k=40))
    )
    script = ";".join(
        f"window.{outlet}_{n}=function(a){{return a*{rng.randrange(999)}+'{w}'}}" for n, w in enumerate(rng.choices(WORDS, k=60))
    )
    head = (
        f"<!DOCTYPE html><html><head><title>{outlet}</title><script>{script}</script></head>"
        f"<body><header class='masthead-{outlet}'><ul>{nav}</ul></header><main><article>"
    )
    foot = f"</article></main><footer>&copy; {outlet} media group. All rights reserved. {nav}</footer></body></html>"
    return head, foot


def page_html(outlet: str, number: int, named: bool = False) -> bytes:
    rng = random.Random(f"{outlet}-{number}")
    paragraphs = [" ".join(rng.choices(WORDS, k=60)) for _ in range(5)]
    if named:
        paragraphs = [f"{NAMED} told the {outlet} what happened. {p} {NAMED} asked for privacy." for p in paragraphs]
    head, foot = chrome(outlet)
    return (head + "".join(f"<p>{p}</p>" for p in paragraphs) + foot).encode()


def add_page(archive: Archive, outlet: str, number: int, named: bool = False) -> None:
    body = page_html(outlet, number, named)
    url = f"https://{outlet}.example/{'named' if named else 'story'}/{number}/"
    page = FetchedPage(url, url, 200, {"content-type": ["text/html"]}, body, "2026-11-24T00:00:00+00:00", "seeds", "run")
    page.outlet_id = outlet
    archive.add_capture(page, hashlib.sha256(body).hexdigest())


def new_archive(path, pages_per_outlet: int, policy: DictionaryPolicy = POLICY) -> Archive:
    archive = Archive(path, dictionaries=policy)
    archive.db["outlets"].insert_all([{"id": o, "name": o} for o in OUTLETS])
    archive.db["crawl_runs"].insert(
        {
            "id": "run",
            "spider": "seeds",
            "topic": "t",
            "topic_sha256": "0",
            "started_at": "2026-11-24",
            "user_agent": "ua",
            "robots_obey": 1,
            "clippings_version": "0",
        }
    )
    for number in range(pages_per_outlet):
        for outlet in OUTLETS:
            add_page(archive, outlet, number)
    return archive


def compressions(db) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT compression, count(*) FROM capture_bodies GROUP BY compression"))
    finally:
        conn.close()


def assert_every_body_reads_back(db) -> None:
    archive = Archive(db, create=False)
    try:
        captures = archive.conn.execute("SELECT id, content_sha256 FROM captures").fetchall()
        assert captures
        for capture_id, content_sha256 in captures:
            assert hashlib.sha256(archive.capture_body(capture_id)).hexdigest() == content_sha256
    finally:
        archive.close()


def compact(db, *args):
    return CliRunner().invoke(main, ["compact", "--db", str(db), *SETTINGS, *args])


@pytest.fixture
def plain_archive(tmp_path):
    """Three outlets of 30 pages each, stored before dictionaries existed (training off)."""
    new_archive(tmp_path / "archive.db", 30, DictionaryPolicy(samples=0)).close()
    return tmp_path / "archive.db"


def test_outlet_gets_a_dictionary_once_it_has_enough_bodies(tmp_path):
    archive = new_archive(tmp_path / "archive.db", SAMPLES + 4)
    dictionaries = archive.conn.execute("SELECT outlet_id, samples FROM compression_dictionaries ORDER BY outlet_id").fetchall()
    archive.close()
    assert dictionaries == [(outlet, SAMPLES) for outlet in OUTLETS]
    # the first SAMPLES bodies of each outlet were stored before its dictionary, the next 4 with it
    assert compressions(tmp_path / "archive.db") == {"zstd": 3 * SAMPLES, "zstd+dict:1": 4, "zstd+dict:2": 4, "zstd+dict:3": 4}
    assert_every_body_reads_back(tmp_path / "archive.db")


@pytest.mark.slow
def test_crawl_trains_the_outlets_dictionary_under_its_settings(tmp_path):
    """A real `scrapy crawl`: the capture pipeline reads the settings and trains as it stores
    (in a thread: pages captured while it trains stay plain)."""
    routes = {f"/{DAY}/story-{n}/": page(html(page_html("faults", n).decode())) for n in range(12)}
    with site_with_sitemap(routes) as site:
        db, log = scrapy_crawl(
            "sitemaps", tmp_path, site.topic(), "-s", "COMPRESSION_DICTIONARY_SAMPLES=8", "-s", "COMPRESSION_DICTIONARY_SIZE=4096"
        )
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT outlet_id, samples FROM compression_dictionaries").fetchall() == [("faults", 8)]
    conn.close()
    counts = compressions(db)
    assert set(counts) <= {"zstd", "zstd+dict:1"} and sum(counts.values()) == 12 and counts["zstd"] >= 8
    assert_every_body_reads_back(db)


def test_dictionary_makes_an_outlets_bodies_smaller(tmp_path):
    archive = new_archive(tmp_path / "archive.db", SAMPLES + 4)
    sizes = dict(archive.conn.execute("SELECT compression = 'zstd', avg(length(body)) FROM capture_bodies GROUP BY 1"))
    archive.close()
    assert sizes[0] < 0.7 * sizes[1]


def test_outlet_without_enough_bodies_stays_plain(tmp_path):
    new_archive(tmp_path / "archive.db", SAMPLES - 1).close()
    assert compressions(tmp_path / "archive.db") == {"zstd": 3 * (SAMPLES - 1)}


def test_training_twice_keeps_one_dictionary(tmp_path):
    """Two writers deciding to train at once: the second finds the first's dictionary."""
    first = new_archive(tmp_path / "archive.db", SAMPLES + 1)
    second = Archive(tmp_path / "archive.db", dictionaries=POLICY)
    assert second.train_dictionary("gazette") == first.dictionary_for("gazette")
    assert first.row("SELECT count(*) AS n FROM compression_dictionaries WHERE outlet_id = 'gazette'")["n"] == 1
    first.close(), second.close()


def test_compact_trains_and_recompresses_earlier_bodies(plain_archive):
    result = compact(plain_archive)
    assert result.exit_code == 0, result.output
    assert "Dictionaries trained for: gazette, ledger, wire; 90 bodies recompressed." in result.output
    before, after = (int(n.replace(",", "")) for n in result.output.split("raw pages ")[1].split(" bytes")[0].split(" -> "))
    assert after < 0.9 * before  # 30 pages an outlet: its dictionary weighs on each
    assert set(compressions(plain_archive)) == {"zstd+dict:1", "zstd+dict:2", "zstd+dict:3"}
    assert_every_body_reads_back(plain_archive)


def test_compact_again_changes_nothing(plain_archive):
    compact(plain_archive)
    result = compact(plain_archive)
    assert "Dictionaries trained for: none; 0 bodies recompressed." in result.output
    assert "(1.00x)" in result.output


def test_compact_killed_in_the_middle_leaves_every_body_readable(plain_archive):
    """A real SIGKILL while batches of one body commit; the next run finishes the job."""
    command = [sys.executable, "-m", "clippings", "compact", "--db", str(plain_archive), "--batch", "1", *SETTINGS]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    first_batch = process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert first_batch.startswith("1 bodies looked at")
    stored = compressions(plain_archive)
    assert stored.get("zstd", 0) > 0 and sum(n for label, n in stored.items() if label != "zstd") > 0, stored
    conn = sqlite3.connect(plain_archive)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    assert_every_body_reads_back(plain_archive)
    result = compact(plain_archive)
    assert result.exit_code == 0, result.output
    assert "zstd" not in compressions(plain_archive)
    assert_every_body_reads_back(plain_archive)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM compression_dictionaries WHERE id = 1",
        "UPDATE compression_dictionaries SET dictionary = x'00' WHERE id = 1",
        "INSERT INTO capture_bodies VALUES ('h', 1, 'zstd+dict:99', x'00')",
        "UPDATE capture_bodies SET compression = 'zstd+dict:99' WHERE compression = 'zstd+dict:1'",
    ],
)
def test_archive_refuses_what_would_make_a_body_unreadable(plain_archive, sql):
    """On any connection, foreign keys on or off: the triggers hold."""
    compact(plain_archive)
    conn = sqlite3.connect(plain_archive)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(sql)
    conn.close()
    assert_every_body_reads_back(plain_archive)


def test_unknown_compression_is_a_clear_error():
    with pytest.raises(UnreadableBody, match="unknown capture compression 'brotli'"):
        Codecs(load=None).decompress(b"", "brotli")


def test_corrupt_body_is_a_clear_error(tmp_path):
    archive = new_archive(tmp_path / "archive.db", 1)
    archive.conn.execute("UPDATE capture_bodies SET body = x'28b52ffd00'")
    with pytest.raises(ArchiveError, match="does not decompress"):
        archive.capture_body(1)
    archive.close()


def takedown_archive(tmp_path):
    """The gazette named a person in three stories, all in its dictionary's samples."""
    archive = new_archive(tmp_path / "archive.db", SAMPLES + 2, DictionaryPolicy(samples=0))
    for number in range(3):
        add_page(archive, "gazette", 100 + number, named=True)
    archive.close()
    assert compact(tmp_path / "archive.db").exit_code == 0
    return tmp_path / "archive.db"


def test_takedown_retrains_the_outlets_dictionary_without_the_page(tmp_path):
    db = takedown_archive(tmp_path)
    conn = sqlite3.connect(db)
    (dictionary,) = conn.execute("SELECT dictionary FROM compression_dictionaries WHERE outlet_id = 'gazette'").fetchone()
    conn.close()
    assert NAMED.encode() in dictionary  # what makes the takedown's work needed
    result = CliRunner().invoke(
        main, ["takedown", "add", "https://gazette.example/named/*", "--reason", "asked", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert "3 captures" in result.output and "1 compression_dictionaries" in result.output
    for path in (db, db.with_name(db.name + "-wal")):
        assert not path.exists() or NAMED.encode() not in path.read_bytes()
    # the gazette has a new dictionary (enough pages remain), the other outlets keep theirs
    assert set(compressions(db)) == {"zstd+dict:2", "zstd+dict:3", "zstd+dict:4"}
    assert_every_body_reads_back(db)


def test_takedown_leaving_too_few_pages_stores_them_plain_and_never_reuses_the_id(tmp_path):
    db = takedown_archive(tmp_path)
    result = CliRunner().invoke(main, ["takedown", "add", "https://wire.example/story/1*", "--reason", "asked", "--db", str(db)])
    assert "9 captures" in result.output  # 1 and 10 to 17: 9 of 18 remain, under SAMPLES
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM compression_dictionaries WHERE outlet_id = 'wire'").fetchone() == (0,)
    conn.close()
    archive = Archive(db, dictionaries=POLICY)
    for number in range(SAMPLES - 9):  # enough again
        add_page(archive, "wire", 300 + number)
    # dictionary 3, the latest, was the wire's: a retired id is never given again, so no
    # reader's cached decompressor can go stale
    assert archive.dictionary_for("wire") == 4
    archive.close()
    assert_every_body_reads_back(db)


def test_reader_keeps_reading_while_a_takedown_retrains(tmp_path):
    db = takedown_archive(tmp_path)
    reader = Archive(db, create=False)
    capture = reader.row("SELECT id FROM captures WHERE outlet_id = 'gazette' AND url LIKE '%/story/%' LIMIT 1")["id"]
    before = reader.capture_body(capture)  # its decompressor for dictionary 1 is now cached
    CliRunner().invoke(main, ["takedown", "add", "https://gazette.example/named/*", "--reason", "asked", "--db", str(db)])
    assert reader.capture_body(capture) == before
    reader.close()


def test_public_release_drops_the_dictionaries(tmp_path):
    db = takedown_archive(tmp_path)
    conn = sqlite3.connect(db)
    dictionaries = [d for (d,) in conn.execute("SELECT dictionary FROM compression_dictionaries")]
    conn.close()
    out = tmp_path / "public.db"
    result = CliRunner().invoke(main, ["release", "--public", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert compressions(out) == {}
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT count(*) FROM compression_dictionaries").fetchone() == (0,)
    conn.close()
    raw = out.read_bytes()
    assert NAMED.encode() not in raw and not any(d[-2000:] in raw for d in dictionaries)


def test_full_release_reads_every_body(tmp_path):
    db = takedown_archive(tmp_path)
    out = tmp_path / "full.db"
    assert CliRunner().invoke(main, ["release", "--full", "--db", str(db), "--out", str(out)]).exit_code == 0
    assert_every_body_reads_back(out)


def test_compact_on_a_missing_archive_is_one_sentence(tmp_path):
    result = compact(tmp_path / "missing.db")
    assert result.exit_code == 1 and "no archive at" in result.output and "Traceback" not in result.output


def test_codecs_keep_only_the_latest_compressors_and_still_read_everything(tmp_path):
    archive = new_archive(tmp_path / "archive.db", SAMPLES + 1)
    archive.codecs.COMPRESSORS_KEPT = archive.codecs.DECOMPRESSORS_KEPT = 1
    archive.codecs.compressors.clear()
    for number, outlet in enumerate(OUTLETS * 2):  # each outlet's compressor made again when it comes back
        add_page(archive, outlet, 50 + number)
        assert list(archive.codecs.compressors) == [archive.dictionary_for(outlet)]
    archive.close()
    assert_every_body_reads_back(tmp_path / "archive.db")


@pytest.mark.parametrize("samples, found_too_little_at, needed", [(64, 0, 64), (64, 40, 80), (64, 20, 64), (0, 0, None)])
def test_bodies_to_train_grows_after_training_found_too_little(samples, found_too_little_at, needed):
    assert DictionaryPolicy(samples=samples).bodies_to_train(found_too_little_at) == needed
