"""Import and reextract on one worker, a local process pool and a real Dask LocalCluster: the
same archive every time."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from clippings.cli import main
from pipelines.workers import batch
from tests.warcfiles import records_from_archive, write_warc

# Everything but the times and run ids, which differ from run to run.
COMPARED = {
    "articles": "SELECT id, url, capture_id, title, published_at, published_day, published_source, text, "
    "text_sha256, keywords, people, relevance, story_id, extractor FROM articles ORDER BY id",
    "copies": "SELECT id, article_id, url, capture_id, published_day FROM copies ORDER BY id",
    "captures": "SELECT id, url, content_sha256, record_offset, record_length FROM captures ORDER BY id",
    "rejects": "SELECT url, stage, reason, capture_id FROM rejects ORDER BY url, stage",
    "mentions": "SELECT * FROM mentions ORDER BY article_id, person_id",
    "outlet_lines": "SELECT * FROM outlet_lines ORDER BY outlet_id, line_fingerprint",
}


@pytest.fixture(scope="module")
def dask_scheduler():
    """A real Dask cluster on this machine: two worker processes, one thread each."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(scope="module")
def warc_and_topic(demo_archive, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scaleout")
    records = records_from_archive(demo_archive)
    write_warc(folder / "pages.warc.gz", records * 1)
    topic = folder / "topic.yml"
    conn = sqlite3.connect(demo_archive)
    topic.write_text(conn.execute("SELECT yaml FROM topics").fetchone()[0])
    conn.close()
    return folder / "pages.warc.gz", topic


def dump(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        return {table: conn.execute(sql).fetchall() for table, sql in COMPARED.items()}
    finally:
        conn.close()


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def small_batches(monkeypatch):
    """Several batches in flight even for the small demo file, so the writer's ordering matters."""
    monkeypatch.setattr(batch, "BATCH_SIZE", 5)
    monkeypatch.setattr(batch, "CHUNK_SIZE", 2)


@pytest.mark.slow
def test_import_on_a_pool_and_on_dask_gives_the_archive_one_worker_gives(warc_and_topic, tmp_path, dask_scheduler, small_batches):
    warc, topic = warc_and_topic
    archives = {}
    for name, scale in {"one": ["--workers", "0"], "pool": ["--workers", "2"], "dask": ["--scheduler", dask_scheduler]}.items():
        archives[name] = tmp_path / f"{name}.db"
        invoke("import", str(warc), "--db", str(archives[name]), "--topic", str(topic), *scale)
    one = dump(archives["one"])
    assert len(one["articles"]) >= 20
    assert dump(archives["pool"]) == one
    assert dump(archives["dask"]) == one


@pytest.mark.slow
def test_reextract_on_a_pool_and_on_dask_gives_the_archive_one_worker_gives(
    demo_archive, tmp_path, dask_scheduler, small_batches
):
    results = {}
    for name, scale in {"one": ["--workers", "0"], "pool": ["--workers", "2"], "dask": ["--scheduler", dask_scheduler]}.items():
        db = tmp_path / f"{name}.db"
        shutil.copy(demo_archive, db)
        conn = sqlite3.connect(db)
        conn.execute(
            "UPDATE articles SET text = text || char(10) || 'Read more stories from our newsroom.', extractor = 'trafilatura 1.6.0' WHERE id % 3 = 0"
        )
        conn.commit()
        conn.close()
        output = invoke("reextract", "--db", str(db), *scale).output
        results[name] = (dump(db), output.splitlines()[0])
    assert results["one"][1].startswith("Re-extraction: ") and "text changed" in results["one"][1]
    assert results["pool"] == results["one"]
    assert results["dask"] == results["one"]
    assert results["one"][0] == dump(demo_archive)


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(warc_and_topic, tmp_path):
    warc, topic = warc_and_topic
    result = CliRunner().invoke(
        main, ["import", str(warc), "--db", str(tmp_path / "a.db"), "--topic", str(topic), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output


BOILERPLATE = b"The Harbourview Gazette is an independent newspaper serving the bay since 1891."


def with_outlet_line(records):
    """The Harbourview articles with one line the outlet repeats in each: it becomes boilerplate
    after BOILERPLATE_MIN_ARTICLES of them, while later ones are out on the workers."""
    pages = []
    for record in records:
        start = record.body.find(b"<article")
        if start < 0 or ":" not in record.url or b"harbourview" not in record.body.lower():
            continue
        first_paragraph = record.body.index(b"<p>", start)
        record.body = record.body[:first_paragraph] + b"<p>" + BOILERPLATE + b"</p>" + record.body[first_paragraph:]
        pages.append(record)
    return pages


def test_boilerplate_found_during_an_import_is_applied_as_one_worker_would(
    demo_archive, warc_and_topic, tmp_path, dask_scheduler, small_batches
):
    _, topic = warc_and_topic
    records = with_outlet_line(records_from_archive(demo_archive))
    warc = tmp_path / "repeated.warc.gz"
    write_warc(warc, records)
    archives = {}
    for name, scale in {"one": ["--workers", "0"], "pool": ["--workers", "2"], "dask": ["--scheduler", dask_scheduler]}.items():
        archives[name] = tmp_path / f"{name}.db"
        invoke("import", str(warc), "--db", str(archives[name]), "--topic", str(topic), *scale)
    one = dump(archives["one"])
    carrying = sum(BOILERPLATE.decode() in row[7] for row in one["articles"])
    assert len(one["articles"]) > 4 and carrying == 3  # BOILERPLATE_MIN_ARTICLES, then dropped
    assert dump(archives["pool"]) == one
    assert dump(archives["dask"]) == one
