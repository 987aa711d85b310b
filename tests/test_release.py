"""Releases: a public one holds no text and no raw page (snippets only on request, bounded);
rehydration restores texts and flags changed pages."""

import re
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from clippings.cli import DEFAULT_TOPIC, main
from clippings.demo import DemoSite
from clippings.release import PUBLIC_TABLES, SNIPPET_CONTEXT_WORDS, SNIPPET_SHARE
from pipelines.core.relevance import TopicMatcher
from pipelines.core.topic import load_topic
from pipelines.store.archive import Archive

from .conftest import LOOPBACK, free_port_block, run_clippings
from .leaks import archive_text_runs, leaks_in_file
from .sites import Answer


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


def test_public_release_holds_no_run_of_twelve_words_of_any_text(demo_archive, public_release):
    runs = archive_text_runs(demo_archive)
    assert leaks_in_file(public_release, runs) == []
    assert query(public_release, "SELECT count(*) FROM articles WHERE text != '' OR description IS NOT NULL") == [(0,)]
    assert query(public_release, "SELECT count(*) FROM release_snippets") == [(0,)]


def test_public_release_keeps_metadata_but_no_raw_pages(demo_archive, public_release):
    for table in ("capture_bodies", "compression_dictionaries", "takedowns", "text_sketches", "outlet_lines"):
        assert query(public_release, f"SELECT count(*) FROM {table}") == [(0,)], table
    for table in ("articles", "captures", "mentions", "keyword_matches", "copies", "outlets", "people", "rejects", "topics"):
        assert query(public_release, f"SELECT count(*) FROM {table}") == query(demo_archive, f"SELECT count(*) FROM {table}")
    kept = (
        "id, url, title, authors, published_at, published_source, date_candidates, outlet_id, people, keywords, "
        "relevance, story_id, text_sha256, word_count"
    )
    assert query(public_release, f"SELECT {kept} FROM articles ORDER BY id") == query(
        demo_archive, f"SELECT {kept} FROM articles ORDER BY id"
    )
    capture = "id, url, final_url, status, fetched_at, content_sha256"
    assert query(public_release, f"SELECT {capture} FROM captures ORDER BY id") == query(
        demo_archive, f"SELECT {capture} FROM captures ORDER BY id"
    )
    assert query(public_release, "SELECT kind FROM releases") == [("public",)]
    assert query(public_release, "PRAGMA integrity_check") == [("ok",)]
    # Searchable by title, the only text left.
    assert query(public_release, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'Milano'")[0][0] >= 1


def test_public_release_copies_only_tables_it_knows(demo_archive):
    """A table added to the schema stays empty in public releases until someone decides it may be
    published (clippings.release.PUBLIC_TABLES): this test names the ones left empty on purpose."""
    left_empty = {"capture_bodies", "compression_dictionaries", "takedowns", "text_sketches", "outlet_lines"}
    tables = {
        t
        for (t,) in query(
            demo_archive,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'articles_fts%'",
        )
    }
    assert tables == set(PUBLIC_TABLES) | left_empty


@pytest.fixture(scope="module")
def snippet_release(demo_archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("snippets") / "public.db"
    result = CliRunner().invoke(main, ["release", "--public", "--snippets", "3", "--db", str(demo_archive), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_public_release_snippets_are_opt_in_short_and_in_context(demo_archive, snippet_release):
    snippets = query(snippet_release, "SELECT article_id, term, snippet FROM release_snippets")
    assert snippets
    assert all(len(s.split()) <= 2 * SNIPPET_CONTEXT_WORDS + 4 for _, _, s in snippets)
    # A person found through an alias ("Mr. Spacey") is recorded under the full name.
    assert all(term.lstrip("#").split()[-1].lower() in s.lower() for _, term, s in snippets)
    texts = dict(query(demo_archive, "SELECT id, text FROM articles"))
    for article_id, passages in _by_article(snippets).items():
        assert len(passages) <= 3
        assert sum(len(p.split()) for p in passages) <= SNIPPET_SHARE * len(texts[article_id].split())
        assert all(p in " ".join(texts[article_id].split()) for p in passages)


def _by_article(snippets):
    found = {}
    for article_id, _, snippet in snippets:
        found.setdefault(article_id, []).append(snippet)
    return found


SHORT_ARTICLE = (
    "Alyssa Milano asked women to write #MeToo on Tuesday. Harvey Weinstein denied every allegation, "
    "and Alyssa Milano answered him. By evening #MeToo had spread to France as #BalanceTonPorc, and "
    "Harvey Weinstein was expelled from the Academy. Alyssa Milano thanked every woman who wrote #MeToo "
    "and said that Harvey Weinstein would not silence them."
)


def test_snippets_never_rebuild_a_short_article(demo_archive, tmp_path):
    """A 50-word article full of keywords: three passages of twelve words either side used to be all of it."""
    archive = tmp_path / "archive.db"
    shutil.copy(demo_archive, archive)
    conn = sqlite3.connect(archive)
    conn.execute("UPDATE articles SET text = ?, word_count = ? WHERE id = 1", (SHORT_ARTICLE, len(SHORT_ARTICLE.split())))
    conn.commit()
    conn.close()
    out = tmp_path / "public.db"
    result = CliRunner().invoke(main, ["release", "--public", "--snippets", "3", "--db", str(archive), "--out", str(out)])
    assert result.exit_code == 0, result.output
    passages = [s for (s,) in query(out, "SELECT snippet FROM release_snippets WHERE article_id = 1")]
    assert passages
    assert sum(len(p.split()) for p in passages) <= 0.10 * len(SHORT_ARTICLE.split())


@pytest.mark.parametrize("words", [1, 9, 10, 50, 400])
def test_bounded_passages_stay_within_their_share(words):
    from clippings.release import bounded_passages

    matcher = TopicMatcher(load_topic(DEFAULT_TOPIC))
    text = " ".join((["#MeToo", "Weinstein", "Milano", "said", "the", "women"] * words)[:words])
    passages = bounded_passages([matcher], text, 100)
    tokens = text.split()
    assert sum(len(p.split()) for _, p in passages) <= SNIPPET_SHARE * len(tokens)
    assert sum(len(p) for _, p in passages) <= SNIPPET_SHARE * len(text)
    if words >= 50:
        assert passages


def test_snippets_are_for_public_releases_only(demo_archive, tmp_path):
    result = CliRunner().invoke(
        main, ["release", "--full", "--snippets", "2", "--db", str(demo_archive), "--out", str(tmp_path / "f.db")]
    )
    assert result.exit_code != 0 and "public releases" in result.output
    assert list(tmp_path.iterdir()) == []


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


@pytest.mark.slow
def test_rehydrate_restores_texts_and_flags_changed_pages(demo_archive, demo_site_port, tmp_path, serve_site):
    release = tmp_path / "public.db"
    assert CliRunner().invoke(main, ["release", "--public", "--db", str(demo_archive), "--out", str(release)]).exit_code == 0
    archive = Archive(demo_archive)
    (changed_id, changed_capture, changed_text), (gone_id, gone_capture, _) = query(
        demo_archive, "SELECT id, capture_id, text FROM articles ORDER BY id LIMIT 2"
    )
    original_html = archive.capture_body(changed_capture)
    opening = next(
        " ".join(line.split()[:8]).encode()
        for line in changed_text.splitlines()
        if len(line.split()) > 20 and " ".join(line.split()[:8]).encode() in original_html
    )
    changed_html = original_html.replace(opening, b"A correction was appended. " + opening)
    gone_html = archive.capture_body(gone_capture)
    archive.close()

    pages = serve_site()  # its routes are written once the release points at it
    port = pages.server.server_address[1]
    dead_port = free_port_block(1)
    conn = sqlite3.connect(release)
    gone_url = f"http://127.0.0.1:{dead_port}/2017/10/05/gone/"
    conn.execute("UPDATE articles SET url = ? WHERE id = ?", (f"http://127.0.0.1:{port}/2017/10/05/changed/", changed_id))
    conn.execute("UPDATE articles SET url = ? WHERE id = ?", (gone_url, gone_id))
    captured = conn.execute(
        "SELECT c.fetched_at FROM captures c JOIN articles a ON a.capture_id = c.id WHERE a.id = ?", (gone_id,)
    ).fetchone()[0]
    conn.commit()
    conn.close()
    timestamp = re.sub(r"\D", "", captured)[:14]
    pages.routes.update(
        {"/2017/10/05/changed/": Answer(200, changed_html), f"/web/{timestamp}id_/{gone_url}": Answer(200, gone_html)}
    )
    with DemoSite(base_port=demo_site_port):
        result = run_clippings(
            "rehydrate", str(release), "-s", f"WAYBACK_REPLAY_URL=http://127.0.0.1:{port}/web/{{timestamp}}id_/{{url}}", *LOOPBACK
        )
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


@pytest.mark.parametrize("kind", ["--public", "--full"])
def test_release_of_a_release_is_written(public_release, tmp_path, kind):
    """A release file is an archive too: releasing it again (say, a public release of a shared
    full one) records the new release beside the old one instead of failing."""
    out = tmp_path / "again.db"
    result = CliRunner().invoke(main, ["release", kind, "--db", str(public_release), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [kind for (kind,) in query(out, "SELECT kind FROM releases ORDER BY rowid")][-1] == kind.strip("-")
