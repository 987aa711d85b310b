"""Peak resident memory of an import and of a re-extraction at two sizes, N and 4N records.

    python -m benchmarks.import_memory [DATA_DIR] [--copies N]

Builds two WARC.gz files of the pages of DATA_DIR (default ../shared/bench/extraction), N and
4N copies of each, then runs `clippings import --no-prefilter --workers 0` (every page analysed,
in the one process measured) and `clippings reextract --workers 0` on each, as subprocesses,
and reads each one's peak resident set size (ru_maxrss, from wait4). Streaming keeps memory
flat: the 4N/N ratio should stay near 1 (issue 7).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.warc_corpus import DEFAULT_DATA, write_corpus, write_topic


def peak_rss_mb(*args: str) -> float:
    """Run `python -m clippings ARGS` and return its peak resident memory in MB."""
    process = subprocess.Popen([sys.executable, "-m", "clippings", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"clippings {args[0]} failed (exit {process.returncode})")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=1, help="N: copies of each page in the smaller file")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for copies in (args.copies, 4 * args.copies):
            warc, db = scratch / f"corpus-{copies}.warc.gz", scratch / f"archive-{copies}.db"
            records, _, topic_text = write_corpus(warc, args.data_dir, copies, on_topic_every=25)
            topic = write_topic(scratch / "topic.yml", topic_text)
            imported = peak_rss_mb(
                "import", str(warc), "--db", str(db), "--topic", str(topic), "--workers", "0", "--no-prefilter"
            )
            reextracted = peak_rss_mb("reextract", "--db", str(db), "--topic", str(topic), "--workers", "0")
            results[copies] = (records, warc.stat().st_size / 1e6, imported, reextracted)
    for copies, (records, megabytes, imported, reextracted) in results.items():
        print(f"{records:5} records ({megabytes:5.1f} MB): import peak {imported:6.1f} MB, reextract peak {reextracted:6.1f} MB")
    small, large = results[args.copies], results[4 * args.copies]
    print(f"4N/N: import {large[2] / small[2]:.2f}, reextract {large[3] / small[3]:.2f} (flat memory: near 1)")


if __name__ == "__main__":
    main()
