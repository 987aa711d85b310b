"""`clippings reextract`: the stored captures extracted again, nothing fetched."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from clippings.cli import main
from pipelines.store.archive import Archive

SNAPSHOT = {
    "articles": "SELECT * FROM articles ORDER BY id",
    "copies": "SELECT * FROM copies ORDER BY id",
    "mentions": "SELECT * FROM mentions ORDER BY article_id, person_id",
    "keyword_matches": "SELECT * FROM keyword_matches ORDER BY article_id, keyword",
    "text_sketches": "SELECT * FROM text_sketches ORDER BY article_id, hash",
    "outlet_lines": "SELECT * FROM outlet_lines ORDER BY outlet_id, line_fingerprint",
    "rejects": "SELECT url, stage, reason, capture_id FROM rejects ORDER BY url, stage",
    "captures": "SELECT id, url, content_sha256 FROM captures ORDER BY id",
}


@pytest.fixture
def archive(demo_archive, tmp_path) -> Path:
    copy = tmp_path / "archive.db"
    shutil.copy(demo_archive, copy)
    return copy


def snapshot(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        return {table: conn.execute(sql).fetchall() for table, sql in SNAPSHOT.items()}
    finally:
        conn.close()


def execute(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        found = conn.execute(sql, params).fetchall()
        conn.commit()
        return found
    finally:
        conn.close()


def consistent(db: Path) -> None:
    """References, the search index and the stories hold together."""
    assert execute(db, "PRAGMA foreign_key_check") == []
    execute(db, "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert execute(
        db,
        "SELECT count(*) FROM articles a WHERE NOT EXISTS "
        "(SELECT 1 FROM articles l WHERE l.id = a.story_id AND l.story_id = l.id)",
    ) == [(0,)]


def kinds_of_change(output: str) -> set[str]:
    line = next(line for line in output.splitlines() if line.startswith("Re-extraction: "))
    return {part.split(" ", 1)[1] for part in line.removeprefix("Re-extraction: ").split(", ")}


def run_reextract(*args: str):
    return CliRunner().invoke(main, ["reextract", *args], catch_exceptions=False)


@pytest.fixture
def no_network(monkeypatch):
    """A tripwire, not a stand-in: any connection attempt in this process fails the test."""

    def refuse(sock, address):
        raise AssertionError(f"reextract tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_reextract_changes_nothing_when_nothing_changed(archive, no_network):
    before = snapshot(archive)
    result = run_reextract("--db", str(archive), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert kinds_of_change(result.output) == {"still rejected", "unchanged"}
    assert snapshot(archive) == before
    consistent(archive)


def test_reextract_restores_exactly_what_an_older_extractor_stored(archive, no_network):
    before = snapshot(archive)
    article_id, url = execute(
        archive, "SELECT id, url FROM articles WHERE published_day IS NOT NULL ORDER BY id LIMIT 1 OFFSET 3"
    )[0]
    execute(
        archive,
        "UPDATE articles SET text = text || char(10) || 'Sign up for our zyzzyva newsletter.', "
        "published_at = '2017-09-30', published_day = '2017-09-30', extractor = 'trafilatura 1.6.0' WHERE id = ?",
        (article_id,),
    )
    execute(archive, "DELETE FROM mentions WHERE article_id = ?", (article_id,))
    result = run_reextract("--db", str(archive), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert f"text changed: article {article_id} {url}" in result.output
    assert f"dates changed: article {article_id} {url}: published_at '2017-09-30'" in result.output
    assert "1 text changed" in result.output and "1 dates changed" in result.output
    assert snapshot(archive) == before
    assert execute(archive, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'zyzzyva'") == [(0,)]
    consistent(archive)
    again = run_reextract("--db", str(archive), "--workers", "0")
    assert kinds_of_change(again.output) == {"still rejected", "unchanged"} and snapshot(archive) == before


def test_reextract_recomputes_the_text_flags_an_older_rule_stored(archive, no_network):
    """A flag rule changed (a complete article ending in an ellipsis was `truncated`): the
    archive's flags are computed again from the stored captures."""
    before = snapshot(archive)
    article_id, url = execute(archive, "SELECT id, url FROM articles WHERE text_flags NOT LIKE '%truncated%' LIMIT 1")[0]
    execute(archive, "UPDATE articles SET text_flags = ? WHERE id = ?", ('["truncated"]', article_id))
    result = run_reextract("--db", str(archive), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert f"text changed: article {article_id} {url}: text_flags '[\"truncated\"]'" in result.output
    assert "1 text changed" in result.output
    assert snapshot(archive) == before


def test_reextract_follows_a_topic_change(archive, tmp_path, no_network):
    """A keyword added to the topic brings in the page that names it; the old topic again
    withdraws it, and the archive is as it was."""
    before = snapshot(archive)
    url, capture_id = execute(archive, "SELECT url, capture_id FROM rejects WHERE url LIKE '%marathon%'")[0]
    topic = yaml.safe_load(execute(archive, "SELECT yaml FROM topics")[0][0])
    topic["keywords"].append("marathon")
    wider = tmp_path / "wider.yml"
    wider.write_text(yaml.safe_dump(topic))
    result = run_reextract("--db", str(archive), "--topic", str(wider), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert f"articles added: capture {capture_id} {url}" in result.output
    added = execute(archive, "SELECT id, keywords FROM articles WHERE capture_id = ?", (capture_id,))
    assert len(added) == 1 and "marathon" in added[0][1]
    assert execute(archive, "SELECT count(*) FROM rejects WHERE capture_id = ?", (capture_id,)) == [(0,)]
    assert execute(archive, "SELECT count(*) FROM keyword_matches WHERE keyword = 'marathon'") == [(1,)]
    consistent(archive)

    original = tmp_path / "original.yml"
    original.write_text(execute(archive, "SELECT yaml FROM topics ORDER BY first_used_at LIMIT 1")[0][0])
    result = run_reextract("--db", str(archive), "--topic", str(original), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert f"withdrawn: article {added[0][0]} {url}: off-topic" in result.output
    after = snapshot(archive)
    assert after["articles"] == before["articles"] and after["mentions"] == before["mentions"]
    assert after["keyword_matches"] == before["keyword_matches"] and after["outlet_lines"] == before["outlet_lines"]
    assert (url, "topic") in {(u, stage) for u, stage, *_ in after["rejects"]}
    consistent(archive)


def test_reextract_brings_back_an_article_an_older_extractor_refused_on_its_url(archive, no_network):
    """An archive built when a page could be refused on its URL's shape: the page is stored again,
    and the summary says what came in and how many articles there are now."""
    before = snapshot(archive)
    # an article with no copies (withdrawing one with copies would drop them, and they would come back too)
    article_id, url, capture_id = execute(
        archive,
        "SELECT id, url, capture_id FROM articles WHERE id NOT IN (SELECT article_id FROM copies) ORDER BY id LIMIT 1 OFFSET 2",
    )[0]
    stored = "SELECT url, title, text, published_at, language, people FROM articles WHERE capture_id = ?"
    original = execute(archive, stored, (capture_id,))
    old = Archive(archive, create=False)
    with old.transaction():
        old.withdraw_article(article_id)
        old.log_reject(url, "extract", "listing page: neither an article URL nor article metadata", "seeds", None, capture_id)
    old.close()
    count = len(before["articles"])
    result = run_reextract("--db", str(archive), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert kinds_of_change(result.output) == {"articles added", "still rejected", "unchanged"}, result.output
    assert f"Articles: {count - 1} before, {count} after (1 added, 0 withdrawn, 0 with a new text)." in result.output
    assert f"articles added: capture {capture_id} {url}" in result.output
    assert execute(archive, stored, (capture_id,)) == original
    assert (url, "extract") not in {(u, stage) for u, stage, *_ in snapshot(archive)["rejects"]}
    consistent(archive)


def test_reextract_refuses_a_missing_archive(tmp_path):
    result = run_reextract("--db", str(tmp_path / "nothing.db"))
    assert result.exit_code == 1
    assert "no archive at" in result.output
    assert not (tmp_path / "nothing.db").exists()


def test_reextract_reads_dates_on_the_outlets_clock_the_topic_gives(archive, tmp_path, no_network):
    """An outlet's `timezone` in the topic reaches re-extraction: its stamps are read on that clock,
    the full stamp kept with its offset, the UTC day beside the outlet's day."""
    topic = yaml.safe_load(execute(archive, "SELECT yaml FROM topics")[0][0])
    outlet = next(o for o in topic["outlets"] if o["id"] == "harbourview")
    outlet["timezone"] = "Pacific/Auckland"
    zoned = tmp_path / "zoned.yml"
    zoned.write_text(yaml.safe_dump(topic))
    late = "SELECT published_at, published_day, published_utc_day FROM articles WHERE published_at = '2017-10-16T22:45:00-04:00'"
    assert execute(archive, late) == [("2017-10-16T22:45:00-04:00", "2017-10-16", "2017-10-17")]
    result = run_reextract("--db", str(archive), "--topic", str(zoned), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert "dates changed" in kinds_of_change(result.output)
    assert execute(
        archive,
        "SELECT published_at, published_day, published_utc_day FROM articles WHERE published_at = '2017-10-17T15:45:00+13:00'",
    ) == [("2017-10-17T15:45:00+13:00", "2017-10-17", "2017-10-17")]
    assert execute(archive, "SELECT timezone FROM outlets WHERE id = 'harbourview'") == [("Pacific/Auckland",)]
    others = execute(
        archive,
        "SELECT count(*) FROM articles a JOIN outlets o ON o.id = a.outlet_id "
        "WHERE o.id != 'harbourview' AND a.published_at LIKE '%+13:00'",
    )
    assert others == [(0,)]
    consistent(archive)
