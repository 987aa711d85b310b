"""Import throughput against plain decompression of the same WARC.gz, measured in one run.

    python -m benchmarks.import_throughput [DATA_DIR] [--copies N] [--rounds R]

Builds a mostly off-topic WARC.gz (benchmarks/warc_corpus.py: the pages of DATA_DIR, default
../shared/bench/extraction, N times each, with a demo on-topic page after every 50), then times,
taking turns R times:
- `zcat FILE > /dev/null`, the baseline;
- the import's reader alone: every record parsed, decompressed and prefiltered (read_pages),
  and the same without the prefilter; and warcio's ArchiveIterator reading every response's
  decoded body, as the import's reader did before it had its own (pipelines/sources/warcrecords.py);
- `clippings import` of it, with the prefilter, into a fresh archive, in this process with one
  worker (analysis of the pages that pass included), and on a pool of two worker processes (the
  default on 2 cores: analysis beside the reading), started and warmed up before the clock starts
  on other pages (the date benchmark's, as benchmarks/scaleout.py does).
Prints MB/s of compressed WARC for each and the ratios to zcat (goal: at least 0.5x).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from benchmarks.scaleout import warm_up_page, warm_up_pages, warmed_pool
from benchmarks.warc_corpus import DEFAULT_DATA, write_corpus, write_topic
from crawlers.addons import project_settings
from pipelines.core.prefilter import Prefilter
from pipelines.core.topic import load_topic
from pipelines.jobs.imports import ImportSettings, import_archives
from pipelines.sources.warcs import FileReport, Provenance, read_pages
from pipelines.store.archive import Archive
from pipelines.workers.pool import ExtractionPool, analysis_arguments

SETTINGS = ImportSettings.from_settings(project_settings())


def time_zcat(path: Path) -> float:
    started = time.perf_counter()
    with open("/dev/null", "wb") as null:
        subprocess.run(["zcat", str(path)], stdout=null, check=True)
    return time.perf_counter() - started


def time_reader(path: Path, topic_path: Path | None) -> float:
    """read_pages over the file, with the topic's prefilter (or none)."""
    prefilter = Prefilter.for_topic(load_topic(topic_path)) if topic_path else None
    report = FileReport(str(path))
    started = time.perf_counter()
    with path.open("rb") as stream:
        for _ in read_pages(stream, str(path), None, report, prefilter, Provenance("benchmark"), SETTINGS.read):
            pass
    return time.perf_counter() - started


def time_warcio(path: Path) -> float:
    """warcio over the file: every response's body read decoded, nothing else."""
    started = time.perf_counter()
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                record.content_stream().read()
    return time.perf_counter() - started


def time_import(path: Path, topic_path: Path, scratch: Path, name: str, workers: int = 0) -> tuple[float, dict]:
    db = scratch / f"import-{name}.db"
    archive = Archive(db)
    # The pool's workers meet the pages' languages on other pages first (benchmarks/scaleout.py):
    # the in-process runs' best round has met them in the rounds before.
    warm_up = warm_up_pages(DEFAULT_DATA.parent / "dates")
    if workers:
        runner = warmed_pool(workers, topic_path.read_text(), warm_up_page(), warm_up)
    else:
        runner = ExtractionPool(0, shared=analysis_arguments(load_topic(topic_path), SETTINGS.thresholds))
    try:
        started = time.perf_counter()
        summary = import_archives([str(path)], archive, load_topic(topic_path), runner, SETTINGS)
        seconds = time.perf_counter() - started
    finally:
        runner.close()
        archive.close()
    return seconds, dict(summary.totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=12, help="times each benchmark page is in the file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        warc = scratch / "corpus.warc.gz"
        records, on_topic, topic_text = write_corpus(warc, args.data_dir, args.copies)
        topic = write_topic(scratch / "topic.yml", topic_text)
        megabytes = warc.stat().st_size / 1e6
        zcat, reader, unfiltered, warcio, imports, pooled, totals = [], [], [], [], [], [], {}
        for round_number in range(args.rounds):
            zcat.append(time_zcat(warc))
            reader.append(time_reader(warc, topic))
            unfiltered.append(time_reader(warc, None))
            warcio.append(time_warcio(warc))
            seconds, totals = time_import(warc, topic, scratch, f"{round_number}-inline")
            imports.append(seconds)
            pooled.append(time_import(warc, topic, scratch, f"{round_number}-pool", workers=2)[0])
    best_zcat, best_reader, best_import = min(zcat), min(reader), min(imports)
    print(f"file: {megabytes:.1f} MB compressed, {records} records ({on_topic} on-topic demo pages)")
    print(
        f"import counts: pages analysed {totals.get('pages', 0)}, prefiltered out {totals.get('prefiltered_out', 0)}, "
        f"articles added {totals.get('articles_added', 0)}"
    )
    print(f"zcat:   {megabytes / best_zcat:7.1f} MB/s (best of {args.rounds}: {best_zcat:.2f} s)")
    print(
        f"reader: {megabytes / best_reader:7.1f} MB/s (best of {args.rounds}: {best_reader:.2f} s)"
        f"  = {best_zcat / best_reader:.2f}x zcat (goal 0.5x)"
    )
    best_unfiltered = min(unfiltered)
    print(f"reader without prefilter: {megabytes / best_unfiltered:7.1f} MB/s  = {best_zcat / best_unfiltered:.2f}x zcat")
    best_warcio = min(warcio)
    print(
        f"warcio, bodies read:      {megabytes / best_warcio:7.1f} MB/s  = {best_zcat / best_warcio:.2f}x zcat"
        f"  (the reader without prefilter: {best_warcio / best_unfiltered:.2f}x warcio)"
    )
    print(
        f"import: {megabytes / best_import:7.1f} MB/s (best of {args.rounds}: {best_import:.2f} s)"
        f"  = {best_zcat / best_import:.2f}x zcat (one worker, in this process)"
    )
    best_pooled = min(pooled)
    print(
        f"import: {megabytes / best_pooled:7.1f} MB/s (best of {args.rounds}: {best_pooled:.2f} s)"
        f"  = {best_zcat / best_pooled:.2f}x zcat (two worker processes)"
    )


if __name__ == "__main__":
    main()
