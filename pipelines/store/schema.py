"""The archive's schema, as numbered migrations applied in order (PRAGMA user_version)."""

from __future__ import annotations

import sqlite3

# "clip" in ASCII: marks a SQLite file as a clippings archive, so a foreign
# database is refused instead of being migrated into something it is not.
APPLICATION_ID = 0x636C6970


class ForeignDatabase(Exception):
    """The file is a SQLite database, but not a clippings archive."""


INITIAL_SCHEMA = """
        CREATE TABLE outlets (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            country TEXT,
            language TEXT,
            domains TEXT NOT NULL DEFAULT '[]',
            homepage TEXT
        );
        CREATE TABLE people (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            aliases TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE crawl_runs (
            id TEXT PRIMARY KEY,
            spider TEXT NOT NULL,
            topic TEXT NOT NULL,
            topic_sha256 TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            finish_reason TEXT,
            user_agent TEXT NOT NULL,
            robots_obey INTEGER NOT NULL,
            pages_fetched INTEGER NOT NULL DEFAULT 0,
            articles_added INTEGER NOT NULL DEFAULT 0,
            copies_added INTEGER NOT NULL DEFAULT 0,
            rejects INTEGER NOT NULL DEFAULT 0,
            fetch_failures INTEGER NOT NULL DEFAULT 0,
            clippings_version TEXT NOT NULL
        );
        -- Raw bodies, content-addressed: the same bytes reached by several URLs
        -- (redirects, tracking parameters, syndication feeds) are stored once.
        CREATE TABLE capture_bodies (
            content_sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            compression TEXT NOT NULL,
            body BLOB NOT NULL
        );
        CREATE TABLE captures (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            status INTEGER NOT NULL,
            headers TEXT NOT NULL,
            content_type TEXT,
            fetched_at TEXT NOT NULL,
            content_sha256 TEXT NOT NULL REFERENCES capture_bodies(content_sha256),
            source TEXT NOT NULL,
            archived_at TEXT,
            spider TEXT NOT NULL,
            crawl_run_id TEXT REFERENCES crawl_runs(id),
            outlet_id TEXT REFERENCES outlets(id),
            UNIQUE (url, content_sha256)
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            capture_id INTEGER NOT NULL REFERENCES captures(id),
            outlet_id TEXT REFERENCES outlets(id),
            title TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            published_at TEXT,
            published_day TEXT,
            published_source TEXT NOT NULL,
            date_candidates TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            sitename TEXT,
            description TEXT,
            text TEXT NOT NULL,
            word_count INTEGER NOT NULL,
            text_sha256 TEXT NOT NULL UNIQUE,
            keywords TEXT NOT NULL DEFAULT '[]',
            people TEXT NOT NULL DEFAULT '[]',
            relevance TEXT NOT NULL,
            source TEXT NOT NULL,
            extractor TEXT NOT NULL,
            added_at TEXT NOT NULL,
            crawl_run_id TEXT REFERENCES crawl_runs(id)
        );
        CREATE TABLE copies (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            capture_id INTEGER NOT NULL REFERENCES captures(id),
            outlet_id TEXT REFERENCES outlets(id),
            title TEXT,
            published_at TEXT,
            published_day TEXT,
            relation TEXT NOT NULL,
            added_at TEXT NOT NULL,
            crawl_run_id TEXT REFERENCES crawl_runs(id)
        );
        CREATE TABLE mentions (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            person_id TEXT NOT NULL REFERENCES people(id),
            in_title INTEGER NOT NULL,
            in_body INTEGER NOT NULL,
            PRIMARY KEY (article_id, person_id)
        );
        CREATE TABLE keyword_matches (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            keyword TEXT NOT NULL,
            in_title INTEGER NOT NULL,
            in_body INTEGER NOT NULL,
            PRIMARY KEY (article_id, keyword)
        );
        CREATE TABLE rejects (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            stage TEXT NOT NULL,
            reason TEXT NOT NULL,
            capture_id INTEGER REFERENCES captures(id),
            spider TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            times_seen INTEGER NOT NULL DEFAULT 1,
            crawl_run_id TEXT REFERENCES crawl_runs(id),
            UNIQUE (url, stage)
        );
        CREATE TABLE fetch_failures (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            status INTEGER,
            error TEXT NOT NULL,
            spider TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            times_seen INTEGER NOT NULL DEFAULT 1,
            crawl_run_id TEXT REFERENCES crawl_runs(id)
        );

        -- One article (or copy) per canonical URL, a trailing slash or not: the stored URL
        -- stays the one the site serves, the key ignores the slash.
        CREATE UNIQUE INDEX articles_url_key ON articles(rtrim(url, '/'));
        CREATE UNIQUE INDEX copies_url_key ON copies(rtrim(url, '/'));
        CREATE INDEX articles_published_at ON articles(published_at);
        CREATE INDEX articles_published_day ON articles(published_day);
        CREATE INDEX articles_outlet_day ON articles(outlet_id, published_day);
        CREATE INDEX articles_language ON articles(language);
        CREATE INDEX articles_capture ON articles(capture_id);
        CREATE INDEX copies_article ON copies(article_id);
        CREATE INDEX mentions_person ON mentions(person_id);
        CREATE INDEX keyword_matches_keyword ON keyword_matches(keyword);
        CREATE INDEX captures_final_url ON captures(final_url);
        CREATE INDEX captures_content ON captures(content_sha256);
        CREATE INDEX captures_run ON captures(crawl_run_id);
        CREATE INDEX rejects_stage ON rejects(stage);

        -- Full-text search over title and text, kept in step by triggers.
        -- The content= spelling is the one sqlite-utils writes and Datasette detects.
        CREATE VIRTUAL TABLE [articles_fts] USING FTS5 (
            [title], [text],
            tokenize='porter unicode61 remove_diacritics 2',
            content=[articles]
        );
        CREATE TRIGGER [articles_ai] AFTER INSERT ON [articles] BEGIN
            INSERT INTO [articles_fts] (rowid, [title], [text])
            VALUES (new.rowid, new.[title], new.[text]);
        END;
        CREATE TRIGGER [articles_ad] AFTER DELETE ON [articles] BEGIN
            INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
            VALUES ('delete', old.rowid, old.[title], old.[text]);
        END;
        CREATE TRIGGER [articles_au] AFTER UPDATE ON [articles] BEGIN
            INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
            VALUES ('delete', old.rowid, old.[title], old.[text]);
            INSERT INTO [articles_fts] (rowid, [title], [text])
            VALUES (new.rowid, new.[title], new.[text]);
        END;
"""

# The topic files an archive was built with, verbatim: the datasheet and any later reader
# can see the exact window, keywords and people behind the articles.
TOPICS = """
        CREATE TABLE topics (
            sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            title TEXT NOT NULL,
            window_start TEXT NOT NULL,
            window_end TEXT NOT NULL,
            yaml TEXT NOT NULL,
            first_used_at TEXT NOT NULL
        );
"""

# Dates: the modification date kept apart, and whether the date is trustworthy (stated by the
# page or a listing, rather than guessed by htmldate alone). Text: why it may be less than a
# full article. Rows written before this migration have NULL for date_trusted: not assessed.
DATES_AND_TEXT_FLAGS = """
        ALTER TABLE articles ADD COLUMN modified_at TEXT;
        ALTER TABLE articles ADD COLUMN date_trusted INTEGER;
        ALTER TABLE articles ADD COLUMN text_flags TEXT NOT NULL DEFAULT '[]';
        CREATE INDEX articles_date_trusted ON articles(date_trusted);
"""

# Stories: near-identical texts (wire copies, updated versions, slug variants) share a story_id,
# the id of the story's earliest-published article. text_sketches holds each article's bottom-k
# MinHash (pipelines/core/stories.py), indexed by hash so candidates are found without a scan.
# Articles archived before this migration are each their own story.
STORIES = """
        ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES articles(id);
        UPDATE articles SET story_id = id;
        CREATE INDEX articles_story ON articles(story_id);
        CREATE TABLE text_sketches (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            hash INTEGER NOT NULL,
            PRIMARY KEY (article_id, hash)
        ) WITHOUT ROWID;
        CREATE INDEX text_sketches_hash ON text_sketches(hash);
"""

# Repeated boilerplate: for each outlet, in how many of its articles each text line appears
# (by fingerprint). Lines an outlet repeats across BOILERPLATE_MIN_ARTICLES articles or more
# are dropped from the text of its later articles.
OUTLET_LINES = """
        CREATE TABLE outlet_lines (
            outlet_id TEXT NOT NULL REFERENCES outlets(id),
            line_fingerprint TEXT NOT NULL,
            articles INTEGER NOT NULL,
            PRIMARY KEY (outlet_id, line_fingerprint)
        ) WITHOUT ROWID;
"""

# Chosen from measurements on 200,000 articles (BENCHMARKS.md). Coverage per day read every
# article row for its outlet and word count (338 ms); a covering index answers it alone (33 ms)
# and serves the published_day facet, which makes the plain published_day index redundant.
# The source and published_source facets scanned the table (144 ms each; 8 ms indexed).
FACET_INDEXES = """
        CREATE INDEX articles_day_outlet_words ON articles(published_day, outlet_id, word_count);
        DROP INDEX articles_published_day;
        CREATE INDEX articles_source ON articles(source);
        CREATE INDEX articles_published_source ON articles(published_source);
"""

# Takedown requests (`clippings takedown add`): URL patterns whose records are removed
# from the archive and never captured again.
TAKEDOWNS = """
        CREATE TABLE takedowns (
            id INTEGER PRIMARY KEY,
            pattern TEXT NOT NULL UNIQUE,
            reason TEXT NOT NULL,
            requested_on TEXT NOT NULL,
            added_at TEXT NOT NULL,
            records_removed INTEGER NOT NULL DEFAULT 0
        );
"""

# Web archives as sources (wayback, commoncrawl, warc): a capture is one sighting of some bytes
# at a URL *from one source*, so a page found live, in the Wayback Machine and in a WARC is three
# captures of one body, and the coverage report can say which source saw what. A capture from
# an archive says where its record lies: the WARC file (or the replay URL), the record's byte
# offset and length. The table is rebuilt to widen its unique key; ids are kept.
CAPTURE_SOURCES = """
        CREATE TABLE captures_widened (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            status INTEGER NOT NULL,
            headers TEXT NOT NULL,
            content_type TEXT,
            fetched_at TEXT NOT NULL,
            content_sha256 TEXT NOT NULL REFERENCES capture_bodies(content_sha256),
            source TEXT NOT NULL,
            archived_at TEXT,
            spider TEXT NOT NULL,
            crawl_run_id TEXT REFERENCES crawl_runs(id),
            outlet_id TEXT REFERENCES outlets(id),
            record_file TEXT,
            record_offset INTEGER,
            record_length INTEGER,
            UNIQUE (url, content_sha256, source)
        );
        INSERT INTO captures_widened (id, url, final_url, status, headers, content_type, fetched_at,
            content_sha256, source, archived_at, spider, crawl_run_id, outlet_id)
        SELECT id, url, final_url, status, headers, content_type, fetched_at,
            content_sha256, source, archived_at, spider, crawl_run_id, outlet_id FROM captures;
        DROP TABLE captures;
        ALTER TABLE captures_widened RENAME TO captures;
        CREATE INDEX captures_final_url ON captures(final_url);
        CREATE INDEX captures_content ON captures(content_sha256);
        CREATE INDEX captures_run ON captures(crawl_run_id);
        CREATE INDEX captures_source_outlet ON captures(source, outlet_id);
"""

# Updated articles: every distinct text seen at an article's URL, once the URL has given more
# than one (a correction, new paragraphs), each with the capture that showed it and the words it
# added and removed against the version before. The article's own row keeps the earliest
# captured version (pipelines/store/versions.py, Archive.add_version). Crawl runs count the versions added.
ARTICLE_VERSIONS = """
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            capture_id INTEGER NOT NULL REFERENCES captures(id),
            captured_at TEXT NOT NULL,
            title TEXT,
            published_at TEXT,
            modified_at TEXT,
            text TEXT NOT NULL,
            word_count INTEGER NOT NULL,
            text_sha256 TEXT NOT NULL,
            words_added INTEGER NOT NULL,
            words_removed INTEGER NOT NULL,
            added_at TEXT NOT NULL,
            crawl_run_id TEXT REFERENCES crawl_runs(id),
            UNIQUE (article_id, text_sha256)
        );
        CREATE INDEX article_versions_capture ON article_versions(capture_id);
        ALTER TABLE crawl_runs ADD COLUMN versions_added INTEGER NOT NULL DEFAULT 0;
"""

# Compression dictionaries (pipelines/store/compression.py): trained per outlet on its own pages, so
# a body keeps little more than what is its own. capture_bodies.compression says how a body
# reads: "zstd" alone, or "zstd+dict:ID" with dictionary ID. Ids are never reused
# (AUTOINCREMENT); triggers refuse a body naming a missing dictionary, the deletion of a
# dictionary a body uses, and any change to a dictionary's bytes, on every connection.
COMPRESSION_DICTIONARIES = """
        CREATE TABLE compression_dictionaries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            outlet_id TEXT REFERENCES outlets(id),
            trained_at TEXT NOT NULL,
            samples INTEGER NOT NULL,
            size INTEGER NOT NULL,
            dictionary BLOB NOT NULL
        );
        CREATE INDEX compression_dictionaries_outlet ON compression_dictionaries(outlet_id);
        CREATE INDEX capture_bodies_compression ON capture_bodies(compression, content_sha256);
        CREATE INDEX captures_outlet ON captures(outlet_id);
        CREATE TRIGGER compression_dictionaries_in_use BEFORE DELETE ON compression_dictionaries
        WHEN EXISTS (SELECT 1 FROM capture_bodies WHERE compression = 'zstd+dict:' || old.id)
        BEGIN SELECT RAISE(ABORT, 'a compression dictionary in use by capture bodies cannot be deleted'); END;
        CREATE TRIGGER compression_dictionaries_immutable BEFORE UPDATE ON compression_dictionaries
        BEGIN SELECT RAISE(ABORT, 'a compression dictionary cannot change'); END;
        CREATE TRIGGER capture_bodies_dictionary_insert BEFORE INSERT ON capture_bodies
        WHEN new.compression != 'zstd' AND NOT EXISTS (SELECT 1 FROM compression_dictionaries
            WHERE new.compression = 'zstd+dict:' || id AND id = CAST(substr(new.compression, 11) AS INTEGER))
        BEGIN SELECT RAISE(ABORT, 'a capture body names a compression dictionary that does not exist'); END;
        CREATE TRIGGER capture_bodies_dictionary_update BEFORE UPDATE OF compression ON capture_bodies
        WHEN new.compression != 'zstd' AND NOT EXISTS (SELECT 1 FROM compression_dictionaries
            WHERE new.compression = 'zstd+dict:' || id AND id = CAST(substr(new.compression, 11) AS INTEGER))
        BEGIN SELECT RAISE(ABORT, 'a capture body names a compression dictionary that does not exist'); END;
"""

# `clippings import`: one row per web archive file (WARC, WARC.gz, WACZ; path or URL) per
# import run, with what became of its records and where it is damaged. The run itself is a
# crawl_runs row (spider "import"); its pages are captures with source "warc".
IMPORT_FILES = """
        CREATE TABLE import_files (
            id INTEGER PRIMARY KEY,
            crawl_run_id TEXT NOT NULL REFERENCES crawl_runs(id),
            location TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'reading',
            records INTEGER NOT NULL DEFAULT 0,
            pages INTEGER NOT NULL DEFAULT 0,
            prefiltered_out INTEGER NOT NULL DEFAULT 0,
            skipped_not_response INTEGER NOT NULL DEFAULT 0,
            skipped_revisit INTEGER NOT NULL DEFAULT 0,
            skipped_status INTEGER NOT NULL DEFAULT 0,
            skipped_not_html INTEGER NOT NULL DEFAULT 0,
            skipped_too_large INTEGER NOT NULL DEFAULT 0,
            takedowns_skipped INTEGER NOT NULL DEFAULT 0,
            articles_added INTEGER NOT NULL DEFAULT 0,
            copies_added INTEGER NOT NULL DEFAULT 0,
            articles_unchanged INTEGER NOT NULL DEFAULT 0,
            rejects INTEGER NOT NULL DEFAULT 0,
            damaged INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            problems TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX import_files_run ON import_files(crawl_run_id);
        CREATE INDEX import_files_location ON import_files(location);
"""

# Time zones: an outlet's clock (the topic file's `timezone`), and beside each article's and
# copy's day on that clock (published_day) the UTC day of its instant, when the page states a time
# with an offset (published_at keeps the full time stamp). Rows written before: the UTC day of a
# published_at that has an offset (SQLite's date() converts it to UTC), NULL otherwise.
PUBLISHED_UTC_DAY = """
        ALTER TABLE outlets ADD COLUMN timezone TEXT;
        ALTER TABLE articles ADD COLUMN published_utc_day TEXT;
        ALTER TABLE copies ADD COLUMN published_utc_day TEXT;
        UPDATE articles SET published_utc_day = date(published_at)
            WHERE published_at GLOB '*T*[+-][0-9][0-9]:[0-9][0-9]' OR published_at GLOB '*T*Z';
        UPDATE copies SET published_utc_day = date(published_at)
            WHERE published_at GLOB '*T*[+-][0-9][0-9]:[0-9][0-9]' OR published_at GLOB '*T*Z';
"""

# Pages of an imported file that became a new version of an archived article: counted like
# the other outcomes, so a file's counts add up to its pages. A file's status is `incomplete`
# while it is read (and after a kill), `interrupted`, `unreadable`, `complete`, `with errors`, or
# `already imported` (read to its end by an earlier run with the same topic: not read again).
IMPORT_FILES_VERSIONS = """
        ALTER TABLE import_files ADD COLUMN versions_added INTEGER NOT NULL DEFAULT 0;
"""

# The settings a run applied, as a JSON object {NAME: value}: the research thresholds
# (MIN_ARTICLE_WORDS, THIN_WORDS, BOILERPLATE_MIN_ARTICLES, STORY_SIMILARITY) always, and every
# setting given with -s, secrets and local paths left out (crawlers.addons.recorded_settings).
# Runs from before this migration: NULL, their settings unknown. Re-extraction is a run now too.
RUN_SETTINGS = """
        ALTER TABLE crawl_runs ADD COLUMN settings TEXT;
"""

# Each entry is one migration's SQL; append, never edit a released one.
MIGRATIONS: list[str] = [
    INITIAL_SCHEMA,
    TOPICS,
    DATES_AND_TEXT_FLAGS,
    STORIES,
    OUTLET_LINES,
    FACET_INDEXES,
    TAKEDOWNS,
    CAPTURE_SOURCES,
    ARTICLE_VERSIONS,
    COMPRESSION_DICTIONARIES,
    IMPORT_FILES,
    PUBLISHED_UTC_DAY,
    IMPORT_FILES_VERSIONS,
    RUN_SETTINGS,
]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the archive up to SCHEMA_VERSION; returns how many migrations ran.

    Each migration runs in its own transaction together with its version bump,
    so a crash leaves the archive at the previous version, never in between.
    """
    version = schema_version(conn)
    # A migration that rebuilds a table (SQLite's documented twelve steps) needs foreign keys
    # off while it runs; they are checked before its commit instead.
    enforced = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            _apply(conn, migration, number)
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")
    return SCHEMA_VERSION - version


def schema_version(conn: sqlite3.Connection) -> int:
    """The archive's schema version (0: an empty file), read without writing; ForeignDatabase
    when the file is not a clippings archive, or one newer than this clippings."""
    _refuse_foreign(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ForeignDatabase(
            f"archive schema version {version} is newer than this clippings ({SCHEMA_VERSION}); upgrade clippings to open it"
        )
    return version


def _apply(conn: sqlite3.Connection, migration: str, number: int) -> None:
    # executescript() commits any open transaction first, so the whole
    # transaction, version bump included, lives inside the script.
    try:
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{migration}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {number};"
        )
        if broken := conn.execute("PRAGMA foreign_key_check").fetchall():
            raise sqlite3.IntegrityError(f"migration {number} would break references: {broken[:3]}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _refuse_foreign(conn: sqlite3.Connection) -> None:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if application_id == APPLICATION_ID:
        return
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    if application_id != 0 or tables:
        raise ForeignDatabase("the file is a SQLite database but not a clippings archive; give another --db path")
