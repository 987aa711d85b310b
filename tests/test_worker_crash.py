"""A page whose analysis kills its worker process, in `clippings import` and `clippings reextract`:
the crawl's semantics (tests/test_extraction_pool.py) everywhere. The chunk it was in is tried
again page by page, each alone in a fresh process; the page that kills that one too is one failed
page, reported with the crawl's reason, and every other page is stored. Never the whole command.

The crash is real: a test-only sitecustomize, on the PYTHONPATH of the command's subprocess only,
makes the analysis of a page carrying MARKER end its process with os._exit, as a segfault in lxml
would, in worker processes (never in the command's own process, where the page is not analysed
with workers > 0)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.workers.pool import CRASHED
from tests.conftest import PROJECT_ROOT, rows
from tests.warcfiles import Record, records_from_archive, write_warc

MARKER = b"<!-- clippings-test: this page kills its worker -->"
ARTICLE_PATH = "/2017/10/10/new-yorker-weinstein-accounts/"

CRASH_HOOK = f"""
import multiprocessing
import os

import pipelines.core.analysis as analysis

_extract_page = analysis.extract_page


def extract_page(page, *args, **kwargs):
    if {MARKER!r} in page.body and multiprocessing.parent_process() is not None:
        os._exit(70)
    return _extract_page(page, *args, **kwargs)


analysis.extract_page = extract_page
"""


@pytest.fixture
def crash_hook(tmp_path) -> dict[str, str]:
    """The environment of a command whose workers die on MARKER."""
    hook = tmp_path / "crash-hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
def demo_topic(demo_archive, tmp_path) -> Path:
    path = tmp_path / "demo-topic.yml"
    path.write_text(rows(demo_archive, "SELECT yaml FROM topics")[0][0])
    return path


def marked(records: list[Record]) -> Record:
    """An on-topic article at a URL of its own, carrying the marker."""
    article = next(r for r in records if r.url.endswith(ARTICLE_PATH))
    return Record(article.url.replace(ARTICLE_PATH, "/2017/10/11/the-page-that-crashes/"), article.body + MARKER)


def clippings(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clippings", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def stored(db: Path) -> dict[str, list]:
    return {
        "articles": rows(db, "SELECT url, text_sha256, title, published_day FROM articles ORDER BY url"),
        "copies": rows(db, "SELECT url, title FROM copies ORDER BY url"),
    }


@pytest.mark.slow
def test_import_page_that_kills_its_worker_twice_is_one_failure_and_the_rest_is_stored(
    demo_archive, demo_topic, crash_hook, tmp_path
):
    records = records_from_archive(demo_archive)
    plain, crashing = tmp_path / "plain.warc.gz", tmp_path / "crashing.warc.gz"
    write_warc(plain, records)
    write_warc(crashing, records[:5] + [marked(records)] + records[5:])

    reference = tmp_path / "reference.db"
    assert (
        clippings(
            crash_hook, "import", str(plain), "--db", str(reference), "--topic", str(demo_topic), "--workers", "0"
        ).returncode
        == 0
    )
    db = tmp_path / "crashed.db"
    result = clippings(crash_hook, "import", str(crashing), "--db", str(db), "--topic", str(demo_topic), "--workers", "2")

    assert result.returncode == 1, result.stderr
    assert "some records could not be imported" in result.stderr
    assert "worker process died" not in result.stderr and "Traceback" not in result.stderr
    (status, errors, problems), *_ = rows(db, "SELECT status, errors, problems FROM import_files")
    assert (status, errors) == ("with errors", 1)
    assert "/the-page-that-crashes/" in problems and CRASHED in problems
    assert rows(db, "SELECT count(*) FROM captures WHERE url LIKE '%the-page-that-crashes%'") == [(0,)]
    assert stored(db) == stored(reference)


@pytest.mark.slow
def test_import_page_that_kills_its_worker_in_this_process_is_stored_as_any_other(demo_archive, demo_topic, crash_hook, tmp_path):
    """The control: the hook kills worker processes only, so with --workers 0 the page is
    analysed (and stored) like the others. It shows the test above sees the crash, not the page."""
    records = records_from_archive(demo_archive)
    warc, db = tmp_path / "crashing.warc.gz", tmp_path / "archive.db"
    write_warc(warc, records + [marked(records)])
    result = clippings(crash_hook, "import", str(warc), "--db", str(db), "--topic", str(demo_topic), "--workers", "0")
    assert result.returncode == 0, result.stderr
    assert rows(db, "SELECT errors FROM import_files") == [(0,)]
    assert rows(db, "SELECT count(*) FROM captures WHERE url LIKE '%the-page-that-crashes%'") == [(1,)]


@pytest.mark.slow
def test_reextract_capture_that_kills_its_worker_twice_is_one_error_and_the_rest_is_kept(
    demo_archive, demo_topic, crash_hook, tmp_path
):
    records = records_from_archive(demo_archive)
    warc, db = tmp_path / "crashing.warc.gz", tmp_path / "archive.db"
    write_warc(warc, records + [marked(records)])
    assert (
        clippings(crash_hook, "import", str(warc), "--db", str(db), "--topic", str(demo_topic), "--workers", "0").returncode == 0
    )
    before = tmp_path / "before.db"
    shutil.copy(db, before)

    result = clippings(crash_hook, "reextract", "--db", str(db), "--workers", "2")

    assert result.returncode == 1, result.stderr
    assert "1 capture(s) could not be extracted" in result.stderr
    assert "Traceback" not in result.stderr
    assert "/the-page-that-crashes/" in result.stdout and CRASHED in result.stdout
    assert stored(db) == stored(before)


@pytest.mark.slow
@pytest.mark.parametrize("workers, errors", [("0", 0), ("2", 1)])
def test_import_workers_default_to_the_extraction_workers_setting(
    demo_archive, demo_topic, crash_hook, tmp_path, workers, errors
):
    """Without --workers, EXTRACTION_WORKERS says where pages are analysed: in the command's
    own process (0: the marked page is analysed like any other) or in worker processes (it kills them)."""
    records = records_from_archive(demo_archive)
    warc, db = tmp_path / "crashing.warc.gz", tmp_path / "archive.db"
    write_warc(warc, records[:10] + [marked(records)])
    result = clippings(
        crash_hook, "import", str(warc), "--db", str(db), "--topic", str(demo_topic), "-s", f"EXTRACTION_WORKERS={workers}"
    )
    assert result.returncode == errors, result.stderr
    assert rows(db, "SELECT errors FROM import_files") == [(errors,)]
