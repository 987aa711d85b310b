"""Releases: a public one holds no text and no raw page; rehydration restores texts and flags changed pages."""

import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from clippings.cli import main
from clippings.demo import DemoSite
from pipelines.archive import Archive

from .conftest import free_port_block, run_clippings


def query(db, sql, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def public_release(demo_archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "public.db"
    result = CliRunner().invoke(main, ["release", "--public", "--db", str(demo_archive), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_public_release_holds_no_article_text(demo_archive, public_release):
    raw = public_release.read_bytes()
    texts = [t for (t,) in query(demo_archive, "SELECT text FROM articles")]
    assert query(public_release, "SELECT count(*) FROM articles WHERE text != ''") == [(0,)]
    assert not any(t.encode() in raw for t in texts)
    allowed = " ".join(s for (s,) in query(public_release, "SELECT snippet FROM release_snippets"))
    allowed += " ".join(d or "" for (d,) in query(public_release, "SELECT description FROM articles"))
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?]) ", t) if len(s) > 60]
    assert [s for s in sentences if s.encode() in raw and s not in allowed] == []


def test_public_release_holds_no_raw_pages_but_keeps_metadata(demo_archive, public_release):
    assert query(public_release, "SELECT count(*) FROM capture_bodies") == [(0,)]
    assert query(public_release, "SELECT count(*) FROM takedowns") == [(0,)]
    for table in ("articles", "captures", "mentions", "copies", "outlets"):
        assert query(public_release, f"SELECT count(*) FROM {table}") == query(demo_archive, f"SELECT count(*) FROM {table}")
    assert query(public_release, "SELECT kind FROM releases") == [("public",)]


def test_public_release_snippets_are_short_and_in_context(public_release):
    snippets = query(public_release, "SELECT term, snippet FROM release_snippets")
    assert snippets
    assert all(len(s.split()) <= 2 * 12 + 6 for _, s in snippets)
    # A person found through an alias ("Mr. Spacey") is recorded under the full name.
    assert all(term.lstrip("#").split()[-1].lower() in s.lower() for term, s in snippets)


def test_full_release_is_a_complete_copy(demo_archive, tmp_path):
    out = tmp_path / "full.db"
    assert CliRunner().invoke(main, ["release", "--full", "--db", str(demo_archive), "--out", str(out)]).exit_code == 0
    assert query(out, "SELECT text FROM articles ORDER BY id") == query(demo_archive, "SELECT text FROM articles ORDER BY id")
    assert query(out, "SELECT count(*) FROM capture_bodies") == query(demo_archive, "SELECT count(*) FROM capture_bodies")


def test_release_refuses_to_overwrite(public_release, demo_archive):
    before = public_release.read_bytes()
    result = CliRunner().invoke(main, ["release", "--public", "--db", str(demo_archive), "--out", str(public_release)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert public_release.read_bytes() == before


class _Pages(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self):
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"not here")

    def log_message(self, *args):
        """Quiet."""


def test_rehydrate_restores_texts_and_flags_changed_pages(demo_archive, demo_site_port, tmp_path):
    release = tmp_path / "public.db"
    assert CliRunner().invoke(main, ["release", "--public", "--db", str(demo_archive), "--out", str(release)]).exit_code == 0
    archive = Archive(demo_archive)
    (changed_id, changed_capture, changed_text), (gone_id, gone_capture, _) = query(
        demo_archive, "SELECT id, capture_id, text FROM articles ORDER BY id LIMIT 2"
    )
    original_html = archive.capture_body(changed_capture)
    opening = next(
        " ".join(line.split()[:8]).encode() for line in changed_text.splitlines()
        if len(line.split()) > 20 and " ".join(line.split()[:8]).encode() in original_html
    )
    changed_html = original_html.replace(opening, b"A correction was appended. " + opening)
    gone_html = archive.capture_body(gone_capture)
    archive.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    port = server.server_address[1]
    dead_port = free_port_block(1)
    conn = sqlite3.connect(release)
    gone_url = f"http://127.0.0.1:{dead_port}/2017/10/05/gone/"
    conn.execute("UPDATE articles SET url = ? WHERE id = ?", (f"http://127.0.0.1:{port}/2017/10/05/changed/", changed_id))
    conn.execute("UPDATE articles SET url = ? WHERE id = ?", (gone_url, gone_id))
    captured = conn.execute("SELECT c.fetched_at FROM captures c JOIN articles a ON a.capture_id = c.id WHERE a.id = ?", (gone_id,)).fetchone()[0]
    conn.commit()
    conn.close()
    timestamp = re.sub(r"\D", "", captured)[:14]
    _Pages.pages = {"/2017/10/05/changed/": changed_html, f"/web/{timestamp}id_/{gone_url}": gone_html}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with DemoSite(base_port=demo_site_port):
            result = run_clippings(
                "rehydrate", str(release),
                "-s", f"WAYBACK_REPLAY_URL=http://127.0.0.1:{port}/web/{{timestamp}}id_/{{url}}",
                "-s", "ALLOWED_PRIVATE_NETWORKS=127.0.0.1/32", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
            )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stdout + result.stderr
    status = dict(query(release, "SELECT article_id, status || ' ' || fetched_from FROM rehydrations"))
    total = query(demo_archive, "SELECT count(*) FROM articles")[0][0]
    assert status[changed_id] == "changed live"
    assert status[gone_id] == "restored wayback"
    assert sum(s.startswith("restored") for s in status.values()) == total - 1
    restored = dict(query(release, "SELECT id, text FROM articles"))
    original = dict(query(demo_archive, "SELECT id, text FROM articles"))
    assert restored[changed_id] == ""
    assert all(restored[i] == original[i] for i in original if i != changed_id)
    assert f"changed: http://127.0.0.1:{port}/2017/10/05/changed/" in result.stdout
    assert query(release, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'Milano'")[0][0] >= 3


def test_metadata_describes_every_release_table(public_release):
    from clippings.publish import load_metadata

    described = load_metadata(public_release)["databases"][public_release.stem]["tables"]
    # sqlite_sequence is SQLite's own (AUTOINCREMENT counters), hidden by Datasette
    tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'articles_fts%' AND name NOT LIKE 'sqlite_%'"
    for (table,) in query(public_release, tables):
        columns = [c[1] for c in query(public_release, f"PRAGMA table_info([{table}])")]
        assert all(described[table]["columns"].get(c) for c in columns), table
