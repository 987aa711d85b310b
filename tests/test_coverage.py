"""Coverage per outlet, day and source: what each source saw, and the days none covered."""

from __future__ import annotations

import shutil
import sqlite3

import yaml
from click.testing import CliRunner

from clippings.cli import main
from pipelines.store.archive import Archive
from pipelines.store.coverage import COVERAGE_SQL, coverage
from tests.conftest import PROJECT_ROOT
from tests.warcfiles import records_from_archive, write_warc


def test_coverage_query_is_the_canned_one():
    metadata = yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text())
    assert metadata["databases"]["archive"]["queries"]["coverage_by_source"]["sql"] == COVERAGE_SQL


def test_coverage_counts_an_article_under_every_source_that_saw_it(demo_archive, tmp_path):
    """Half the live pages imported again from a WARC: those articles count under live and
    warc, the rest under live only, and each once in the total."""
    db = tmp_path / "archive.db"
    shutil.copy(demo_archive, db)
    conn = sqlite3.connect(db)
    (topic_yaml,) = conn.execute("SELECT yaml FROM topics").fetchone()
    conn.close()
    topic = tmp_path / "topic.yml"
    topic.write_text(topic_yaml)
    records = records_from_archive(demo_archive)
    harbourview = [r for r in records if b"Harbourview" in r.body]
    write_warc(tmp_path / "harbourview.warc.gz", harbourview)
    result = CliRunner().invoke(
        main, ["import", str(tmp_path / "harbourview.warc.gz"), "--db", str(db), "--topic", str(topic), "--workers", "0"]
    )
    assert result.exit_code == 0, result.output

    archive = Archive(db)
    found = {c.outlet_id: c for c in coverage(archive)}
    live_days = dict(
        archive.conn.execute(
            "SELECT published_day, count(*) FROM articles WHERE outlet_id = 'harbourview' AND published_day IS NOT NULL "
            "GROUP BY published_day"
        ).fetchall()
    )
    archive.close()
    assert set(found) >= {"harbourview", "northfield"}
    for day, articles in live_days.items():
        assert found["harbourview"].days[day] == {"live": articles, "warc": articles}
        assert found["harbourview"].totals[day] == articles
    assert all(set(by_source) == {"live"} for by_source in found["northfield"].days.values())


def test_coverage_command_shows_the_gaps(demo_archive):
    result = CliRunner().invoke(
        main, ["coverage", "--db", str(demo_archive), "--outlet", "harbourview", "--from", "2017-10-01", "--to", "2017-10-12"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("harbourview (The Harbourview Gazette)")
    assert lines[1].split() == ["day", "all", "live", "wayback", "commoncrawl", "warc"]
    assert "  2017-10-05      1      1      0      0      0".split() == lines[2].split()
    assert lines[-1].startswith("  days without any article 2017-10-01..2017-10-12: ")
    assert "2017-10-01..2017-10-04" in lines[-1] and "2017-10-11..2017-10-12" in lines[-1]


def test_coverage_of_a_missing_archive_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["coverage", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no archive at" in result.output
