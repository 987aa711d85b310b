"""Import and re-extraction on 2 worker processes against 1, measured in one run.

    python -m benchmarks.scaleout [DATA_DIR] [--copies N] [--workers W]

Builds a WARC.gz of the pages of DATA_DIR (default ../shared/bench/extraction) N times each,
imports it without the prefilter (so every page is extracted: the CPU-bound part) on a pool of
one worker process and on a pool of W (default 2), each into a fresh archive, then re-extracts
each archive the same two ways. Every run gets a fresh pool, started and warmed up (libraries
imported, models loaded, topic compiled: each worker analyses a demo page) before the clock starts: the extraction libraries cache results for
text they have seen, so a process that analysed the same pages before would be faster for it. Prints seconds, pages per second and the speed-up (goal 1.7x for 2).
On a shared machine, run it twice: a load that comes and goes weighs on one run more.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.warc_corpus import DEFAULT_DATA, demo_pages, write_corpus, write_topic
from crawlers.items import FetchedPage
from clippings.topic import load_topic
from pipelines.archive import Archive
from pipelines.batch import PoolRunner, analyse_chunk
from pipelines.imports import ImportSettings, import_archives
from pipelines.reextraction import reextract


def warmed_pool(workers: int, topic_text: str, page: FetchedPage) -> PoolRunner:
    """A pool whose workers have each analysed one page (a demo page, not in the corpus):
    libraries imported, models loaded, topic compiled."""
    runner = PoolRunner(workers)
    for future in [runner.submit(_warm_up, topic_text, page) for _ in range(workers)]:
        future.result()
    return runner


def _warm_up(topic_text: str, page: FetchedPage) -> None:
    analyse_chunk([page], [frozenset()], topic_text)
    time.sleep(1)  # so that each worker gets one


def warm_up_page() -> FetchedPage:
    url, html = demo_pages()[0][0]
    return FetchedPage(url=url, final_url=url, status=200, headers={"content-type": ["text/html"]}, body=html,
                       fetched_at="2017-10-20T12:00:00+00:00", spider="benchmark", crawl_run_id="benchmark")


def timed_import(warc: Path, topic_path: Path, db: Path, runner) -> tuple[float, int]:
    archive = Archive(db)
    started = time.perf_counter()
    summary = import_archives([str(warc)], archive, load_topic(topic_path), runner, ImportSettings(prefilter=False))
    seconds = time.perf_counter() - started
    archive.close()
    return seconds, summary.totals["pages"]


def timed_reextract(db: Path, topic_path: Path, runner) -> tuple[float, int]:
    archive = Archive(db)
    started = time.perf_counter()
    summary = reextract(archive, load_topic(topic_path), runner)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds, sum(summary.changes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        warc = scratch / "corpus.warc.gz"
        _, _, topic_text = write_corpus(warc, args.data_dir, args.copies, on_topic_every=10**9)
        topic = write_topic(scratch / "topic.yml", topic_text)
        sizes = {"1 worker": 1, f"{args.workers} workers": args.workers}
        page = warm_up_page()
        results = {}
        for task, timed in (("import", timed_import), ("reextract", timed_reextract)):
            for name, workers in sizes.items():
                db = scratch / f"{workers}.db"
                pool = warmed_pool(workers, topic_text, page)
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
