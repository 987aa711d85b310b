"""One settings loader for every command: -s NAME=VALUE, unknown names refused, the research
thresholds as settings, recorded with each run and reported in the datasheet."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from clippings.cli import main
from clippings.datasheet import datasheet, datasheet_markdown
from crawlers.addons import project_settings, recorded_settings
from pipelines.core.thresholds import SettingError, Thresholds
from tests.conftest import LOOPBACK, PROJECT_ROOT, rows
from tests.test_import import demo_records, demo_topic  # noqa: F401 (fixtures)
from tests.warcfiles import write_warc

DEFAULTS = {"MIN_ARTICLE_WORDS": 40, "THIN_WORDS": 150, "BOILERPLATE_MIN_ARTICLES": 3, "STORY_SIMILARITY": 0.3}


def run_settings(db) -> list[dict | None]:
    return [json.loads(s) if s else None for (s,) in rows(db, "SELECT settings FROM crawl_runs ORDER BY started_at, id")]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


# --- the loader ---------------------------------------------------------------------


def test_loader_reads_each_threshold_from_the_settings_module():
    assert Thresholds.from_settings(project_settings()).as_settings() == DEFAULTS
    assert Thresholds.from_settings(project_settings({"THIN_WORDS": "90"})).thin_words == 90


def test_loader_refuses_an_unknown_name_and_suggests_the_setting():
    with pytest.raises(
        SettingError, match=r"MIN_ARTICLE_WORD is not a setting of clippings or Scrapy \(did you mean MIN_ARTICLE_WORDS\?\)"
    ):
        project_settings({"MIN_ARTICLE_WORD": "10"})


def test_loader_takes_scrapy_settings_clippings_does_not_set():
    assert project_settings({"HTTPCACHE_ENABLED": "True"}).getbool("HTTPCACHE_ENABLED")


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("STORY_SIMILARITY", "1.5", "STORY_SIMILARITY must be between 0 and 1, not '1.5'"),
        ("BOILERPLATE_MIN_ARTICLES", "0", "BOILERPLATE_MIN_ARTICLES must be at least 1, not '0'"),
        ("THIN_WORDS", "many", "THIN_WORDS must be a number, not 'many'"),
    ],
)
def test_loader_refuses_a_threshold_it_cannot_use(name, value, message):
    with pytest.raises(SettingError, match=message):
        Thresholds.from_settings(project_settings({name: value}))


def test_recorded_settings_are_the_thresholds_and_the_overrides_without_secrets_or_paths():
    settings = project_settings(
        {
            "THIN_WORDS": "90",
            "DOWNLOAD_DELAY": "0",
            "COMMONCRAWL_DATA_URL": "https://reader:s3cret@data.example/",
            "HTTPPROXY_AUTH_ENCODING": "latin-1",
            "ARCHIVE_PATH": "/home/someone/archive.db",
            "LOG_FILE": "/tmp/x.log",
        }
    )
    assert recorded_settings(settings) == {
        **DEFAULTS,
        "THIN_WORDS": 90,
        "DOWNLOAD_DELAY": "0",
        "COMMONCRAWL_DATA_URL": "https://data.example/",
    }


# --- -s on every command that reads settings ----------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["crawl", "seeds"],
        ["demo", "--no-serve"],
        ["import", "x.warc"],
        ["reextract"],
        ["compact"],
        ["rehydrate", "release.db"],
        ["extract", "page.html"],
    ],
)
def test_an_unknown_setting_is_one_sentence_on_every_command(tmp_path, command):
    for name in ("x.warc", "release.db", "page.html"):
        (tmp_path / name).write_bytes(b"")
    args = [tmp_path / a if a in ("x.warc", "release.db", "page.html") else a for a in command]
    db = tmp_path / "archive.db"
    db_args = ["--db", str(db)] if command[0] not in ("rehydrate", "extract") else []
    result = invoke(*map(str, args), *db_args, "-s", "THIN_WORD=10")
    assert result.exit_code == 1, result.output
    assert "Error: THIN_WORD is not a setting of clippings or Scrapy (did you mean THIN_WORDS?)" in result.output
    assert "Traceback" not in result.output and not db.exists()


def test_import_s_thin_words_changes_which_articles_are_flagged_thin(demo_records, demo_topic, tmp_path):  # noqa: F811
    path = tmp_path / "pages.warc.gz"
    write_warc(path, demo_records)
    flagged = {}
    for value in ("150", "100000"):
        db = tmp_path / f"thin-{value}.db"
        result = invoke(
            "import", str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0", "-s", f"THIN_WORDS={value}"
        )
        assert result.exit_code == 0, result.output
        flagged[value] = rows(db, "SELECT count(*), sum(text_flags LIKE '%thin%') FROM articles")[0]
    articles, thin = flagged["100000"]
    assert articles > 0 and thin == articles
    assert flagged["150"][0] == articles and flagged["150"][1] < articles


def test_import_s_story_similarity_changes_how_texts_are_grouped(demo_records, demo_topic, tmp_path):  # noqa: F811
    path = tmp_path / "pages.warc.gz"
    write_warc(path, demo_records)
    stories = {}
    for value in ("0.3", "0.0"):
        db = tmp_path / f"stories-{value}.db"
        result = invoke(
            "import", str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0", "-s", f"STORY_SIMILARITY={value}"
        )
        assert result.exit_code == 0, result.output
        stories[value] = rows(db, "SELECT count(*), count(DISTINCT story_id) FROM articles")[0]
    assert stories["0.0"][0] == stories["0.3"][0]
    assert stories["0.0"][1] < stories["0.3"][1]  # any shared shingle is a story at 0


def test_compact_reads_settings_through_the_loader(demo_archive, tmp_path):
    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    result = invoke("compact", "--db", str(db), "-s", "COMPRESSION_DICTIONARY_SAMPLES=many")
    assert result.exit_code == 1 and "take whole numbers" in result.output
    result = invoke("compact", "--db", str(db), "-s", "COMPRESSION_DICTIONARY_SAMPLES=0")
    assert result.exit_code == 0, result.output
    assert "Dictionaries trained for: none" in result.output
    assert rows(db, "SELECT count(*) FROM compression_dictionaries") == rows(
        demo_archive, "SELECT count(*) FROM compression_dictionaries"
    )


# --- recorded with each run -------------------------------------------------------------------


def test_a_crawl_records_its_thresholds_and_overrides(demo_archive):
    """`clippings demo` crawls with its own -s settings (loopback allowed, no delay)."""
    recorded = run_settings(demo_archive)
    assert recorded and all(r is not None for r in recorded)
    for settings in recorded:
        assert {k: settings[k] for k in DEFAULTS} == DEFAULTS
        assert settings["ALLOWED_PRIVATE_NETWORKS"] == "127.0.0.1/32" and settings["DOWNLOAD_DELAY"] == "0"
        assert not any(name.endswith(("_PATH", "_FILE")) for name in settings)


def test_import_and_reextract_record_their_settings(demo_records, demo_topic, tmp_path):  # noqa: F811
    path, db = tmp_path / "pages.warc.gz", tmp_path / "archive.db"
    write_warc(path, demo_records)
    assert (
        invoke(
            "import", str(path), "--db", str(db), "--topic", str(demo_topic), "--workers", "0", "-s", "MIN_ARTICLE_WORDS=60"
        ).exit_code
        == 0
    )
    result = invoke("reextract", "--db", str(db), "--workers", "0", "-s", "THIN_WORDS=200")
    assert result.exit_code == 0, result.output
    runs = rows(db, "SELECT spider, finish_reason, settings FROM crawl_runs ORDER BY started_at, id")
    assert [(spider, reason) for spider, reason, _ in runs] == [("import", "finished"), ("reextract", "finished")]
    assert json.loads(runs[0][2]) == {**DEFAULTS, "MIN_ARTICLE_WORDS": 60}
    assert json.loads(runs[1][2]) == {**DEFAULTS, "THIN_WORDS": 200}


# --- shown in the datasheet ----------------------------------------------------------------------


def test_datasheet_shows_the_thresholds_and_says_when_runs_differed(demo_archive, tmp_path):
    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    assert invoke("reextract", "--db", str(db), "--workers", "0", "-s", "MIN_ARTICLE_WORDS=41").exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE crawl_runs SET settings = NULL WHERE id = (SELECT min(id) FROM crawl_runs)")  # as before the migration
    conn.commit()
    sheet = datasheet(conn)
    conn.close()
    runs = rows(db, "SELECT count(*) FROM crawl_runs")[0][0]
    by_name = {s["name"]: s["values"] for s in sheet["settings"]["settings"]}
    assert by_name["MIN_ARTICLE_WORDS"] == [{"value": 40, "runs": runs - 2}, {"value": 41, "runs": 1}]
    assert by_name["THIN_WORDS"] == [{"value": 150, "runs": runs - 1}]
    assert sheet["settings"]["runs_without_settings"] == 1
    text = datasheet_markdown(sheet)
    assert "### Settings in force" in text
    assert f"- MIN\\_ARTICLE\\_WORDS: 40 ({runs - 2} run(s)), 41 (1 run(s)) (the runs used different values)" in text
    assert "- THIN\\_WORDS: 150\n" in text
    assert "- 1 run(s) recorded no settings" in text
    assert sheet["user_agents"] and "" not in sheet["user_agents"]
    assert sheet["robots"] == [{"robots_obey": 1, "runs": runs - 1}]  # the re-extraction fetched nothing


def test_every_threshold_is_explained_in_the_settings_module():
    source = (PROJECT_ROOT / "crawlers" / "settings.py").read_text(encoding="utf-8").splitlines()
    for name in DEFAULTS:
        line = next(i for i, text in enumerate(source) if text.startswith(f"{name} = "))
        assert source[line - 1].startswith("#"), f"{name} has no comment saying what it changes"


# --- a resumed crawl -------------------------------------------------------------------


@pytest.mark.slow
def test_a_resume_keeps_the_runs_thresholds_and_adds_its_other_settings(tmp_path, serve_site):
    """One run, one set of research thresholds: a resume that asks for others is refused with
    one sentence (exit 5), the job state kept; the same thresholds resume the run, and the
    run's row adds the settings the resumed part was given."""
    from crawlers.jobstate import JobState, job_state_path
    from pipelines.core.bundled import DEFAULT_TOPIC
    from pipelines.core.topic import load_topic
    from pipelines.store.archive import Archive
    from tests.conftest import run_clippings
    from tests.sites import article_html, html

    site = serve_site({"/2017/10/16/one.html": html(article_html("one"))})
    urls = tmp_path / "urls.txt"
    urls.write_text(site.url("/2017/10/16/one.html") + "\n")
    db, topic = tmp_path / "archive.db", load_topic(DEFAULT_TOPIC)
    archive = Archive(db)
    archive.sync_topic(topic)
    archive.start_run("run-interrupted", "seeds", topic, "clippings-test", True, {**DEFAULTS, "CLOSESPIDER_TIMEOUT": "60"})
    archive.close()
    job_state = job_state_path(db.resolve(), "seeds", topic.name)
    state = JobState(job_state)
    state.start("run-interrupted")
    state.close()
    common = ["crawl", "seeds", "--urls", str(urls), "--db", str(db), *LOOPBACK]

    refused = run_clippings(*common, "-s", "THIN_WORDS=200")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert (
        f"Error: the interrupted seeds crawl applied THIN_WORDS=150 (not 200): resume it with the same research "
        f"settings, or remove its job state {job_state} to start a new run"
    ) in refused.stderr
    assert "Traceback" not in refused.stderr and job_state.exists()
    assert rows(db, "SELECT count(*) FROM captures") == [(0,)]

    resumed = run_clippings(*common)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows(db, "SELECT id FROM crawl_runs") == [("run-interrupted",)]
    assert rows(db, "SELECT count(*) FROM captures WHERE crawl_run_id = 'run-interrupted'") == [(1,)]
    (settings,) = run_settings(db)
    assert {k: settings[k] for k in DEFAULTS} == DEFAULTS
    assert settings["CLOSESPIDER_TIMEOUT"] == "60" and settings["DOWNLOAD_DELAY"] == "0"
