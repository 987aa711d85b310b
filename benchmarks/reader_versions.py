"""The import's WARC reader (read_pages, no prefilter) of this checkout against another checkout's,
on the same file, in turns.

    git archive COMMIT | tar -x -C /tmp/other      # or: git worktree add /tmp/other COMMIT
    python -m benchmarks.reader_versions /tmp/other [DATA_DIR] [--copies N] [--rounds R]

Builds the benchmark WARC.gz (benchmarks/warc_corpus.py: the pages of DATA_DIR, default
../shared/bench/extraction, N times each), then, R times, runs each checkout's read_pages over it
in a subprocess started in that checkout (so it imports its own code), five passes each, and
prints each one's best CPU time (process time: the reader is one thread, and CPU time moves
less than wall time on a shared machine) and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.warc_corpus import DEFAULT_DATA, write_corpus

HERE = Path(__file__).resolve().parents[1]
# Run inside each checkout: its read_pages, with the limits argument where it takes one.
TIMER = """
import inspect, sys, time
from pathlib import Path
from pipelines.sources.warcs import FileReport, Provenance, read_pages
extra = []
if "limits" in inspect.signature(read_pages).parameters:
    from crawlers.addons import project_settings
    from pipelines.jobs.imports import ImportSettings
    extra = [ImportSettings.from_settings(project_settings()).read]
path, best = Path(sys.argv[1]), float("inf")
for _ in range(5):
    started = time.process_time()
    with path.open("rb") as stream:
        pages = sum(1 for _ in read_pages(stream, str(path), None, FileReport(str(path)), None, Provenance("b"), *extra))
    best = min(best, time.process_time() - started)
print(pages, best)
"""


def best_time(checkout: Path, warc: Path) -> tuple[int, float]:
    result = subprocess.run([sys.executable, "-c", TIMER, str(warc)], cwd=checkout, capture_output=True, text=True, check=True)
    pages, seconds = result.stdout.split()
    return int(pages), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("other", type=Path, help="the other checkout")
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        warc = Path(scratch) / "corpus.warc.gz"
        records = write_corpus(warc, args.data_dir, args.copies)[0]
        megabytes = warc.stat().st_size / 1e6
        times: dict[str, list[float]] = {"this": [], "other": []}
        for _ in range(args.rounds):
            for name, checkout in (("other", args.other), ("this", HERE)):
                pages, seconds = best_time(checkout, warc)
                times[name].append(seconds)
    print(f"file: {megabytes:.1f} MB compressed, {records} records, {pages} pages read")
    for name in ("other", "this"):
        best = min(times[name])
        print(f"{name:>5}: {megabytes / best:6.1f} MB/s (best {best:.3f} s; rounds {', '.join(f'{t:.3f}' for t in times[name])})")
    print(f"this checkout's reader: {min(times['other']) / min(times['this']):.2f}x the other's speed")


if __name__ == "__main__":
    main()
