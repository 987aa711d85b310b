"""Import and re-extraction on 2 worker processes against 1, measured in one run.

    python -m benchmarks.scaleout [DATA_DIR] [--copies N] [--workers W]

Builds a WARC.gz of the pages of DATA_DIR (default ../shared/bench/extraction) N times each,
imports it without the prefilter (so every page is extracted: the CPU-bound part) on a pool of
one worker process and on a pool of W (default 2), each into a fresh archive, then re-extracts
each archive the same two ways. Every run gets a fresh pool, started and warmed up before the
clock starts: libraries imported, models loaded, topic compiled, each worker analysing a demo
page, and, with --warm-up DIR (default ../shared/bench/dates, other pages than the corpus), those
pages too: dateparser compiles its expressions for a language the first time a process meets
it, a cost each worker pays once per language, which a real import spreads over thousands of
pages but which weighs on a 91-page corpus in thirty languages, and more so on W workers than on
one. The corpus's own pages are never used to warm up: the extraction libraries cache results
for text they have seen. Prints seconds, pages per second and the speed-up (goal 1.7x for 2).
On a shared machine, run it twice: a load that comes and goes weighs on one run more.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.warc_corpus import DEFAULT_DATA, demo_pages, write_corpus, write_topic
from crawlers.addons import project_settings
from pipelines.core.items import FetchedPage
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import load_topic, parse_topic
from pipelines.jobs.imports import ImportSettings, import_archives
from pipelines.jobs.reextraction import reextract
from pipelines.store.archive import Archive
from pipelines.workers.batch import analyse_chunk
from pipelines.workers.pool import ExtractionPool, analysis_arguments

THRESHOLDS = Thresholds.from_settings(project_settings())


def warmed_pool(workers: int, topic_text: str, page: FetchedPage, more: list[FetchedPage] = ()) -> ExtractionPool:
    """A pool whose workers have each analysed a demo page (not in the corpus), and the pages
    `more`: libraries imported, models loaded, topic compiled, languages met."""
    pool = ExtractionPool(workers, shared=analysis_arguments(parse_topic(yaml.safe_load(topic_text)), THRESHOLDS))
    pool.start()
    for future in [pool.submit(_warm_up, [page, *more]) for _ in range(workers)]:
        future.result()
    return pool


def _warm_up(pages: list[FetchedPage], **shared) -> None:
    analyse_chunk(pages, [frozenset()] * len(pages), **shared)
    time.sleep(1)  # so that each worker gets one


def warm_up_pages(folder: Path | None) -> list[FetchedPage]:
    """The date benchmark's pages (real news in many languages, none in the corpus)."""
    if folder is None or not (folder / "labels.json").exists():
        return []
    labels = json.loads((folder / "labels.json").read_text())
    return [
        FetchedPage(
            url=label["url"],
            final_url=label["url"],
            status=200,
            headers={"content-type": ["text/html"]},
            body=(folder / "html" / name).read_bytes(),
            fetched_at="2020-12-31T00:00:00+00:00",
            spider="benchmark",
            crawl_run_id="benchmark",
        )
        for name, label in sorted(labels.items())
    ]


def warm_up_page() -> FetchedPage:
    url, html = demo_pages()[0][0]
    return FetchedPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": ["text/html"]},
        body=html,
        fetched_at="2017-10-20T12:00:00+00:00",
        spider="benchmark",
        crawl_run_id="benchmark",
    )


def timed_import(warc: Path, topic_path: Path, db: Path, runner) -> tuple[float, int]:
    archive = Archive(db)
    started = time.perf_counter()
    summary = import_archives(
        [str(warc)], archive, load_topic(topic_path), runner, ImportSettings.from_settings(project_settings(), prefilter=False)
    )
    seconds = time.perf_counter() - started
    archive.close()
    return seconds, summary.totals["pages"]


def timed_reextract(db: Path, topic_path: Path, runner) -> tuple[float, int]:
    archive = Archive(db)
    started = time.perf_counter()
    summary = reextract(archive, load_topic(topic_path), runner, THRESHOLDS)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds, sum(summary.changes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--warm-up",
        type=Path,
        default=DEFAULT_DATA.parent / "dates",
        help="pages each worker analyses before the clock starts ('' for none)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        warc = scratch / "corpus.warc.gz"
        _, _, topic_text = write_corpus(warc, args.data_dir, args.copies, on_topic_every=10**9)
        topic = write_topic(scratch / "topic.yml", topic_text)
        sizes = {"1 worker": 1, f"{args.workers} workers": args.workers}
        page = warm_up_page()
        more = warm_up_pages(args.warm_up if str(args.warm_up) else None)
        print("warm-up in each worker: a demo page" + (f" and {len(more)} pages from {args.warm_up}" if more else " only"))
        results = {}
        for task, timed in (("import", timed_import), ("reextract", timed_reextract)):
            for name, workers in sizes.items():
                db = scratch / f"{workers}.db"
                pool = warmed_pool(workers, topic_text, page, more)
                try:
                    inputs = (warc, topic, db) if task == "import" else (db, topic)
                    results[(task, name)] = timed(*inputs, pool)
                finally:
                    pool.close()
    for task in ("import", "reextract"):
        one, many = results[(task, "1 worker")], results[(task, f"{args.workers} workers")]
        for name, (seconds, pages) in (("1 worker", one), (f"{args.workers} workers", many)):
            print(f"{task:9} {name:10} {pages:5} pages {seconds:7.2f} s {pages / seconds:7.1f} pages/s")
        print(f"{task:9} speed-up {one[0] / many[0]:.2f}x (goal 1.7x with 2 workers)")


if __name__ == "__main__":
    main()
