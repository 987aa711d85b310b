"""How many times archived pages inflate from gzip: the ground for WARC_MAX_INFLATION.

    python -m benchmarks.inflation [BENCH_DIR]

Compresses every page of each corpus in BENCH_DIR (default ../shared/bench) as a WARC writer
does (gzip, level 9) and prints, per corpus and pooled, the median, the 99th percentile and the
largest ratio of the page's size to its compressed size. Pages under 1 kB are left out: a gzip
member may always inflate to a MiB (warcrecords.INFLATION_SLACK).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import zlib
from pathlib import Path

DEFAULT_BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench"


def ratios(folder: Path) -> list[float]:
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in (".html", ".htm", ".gz"):
            continue
        page = path.read_bytes()
        page = gzip.decompress(page) if page[:2] == b"\x1f\x8b" else page
        if len(page) < 1000:
            continue
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        found.append(len(page) / len(compressor.compress(page) + compressor.flush()))
    return sorted(found)


def line(name: str, found: list[float]) -> str:
    p99 = found[max(0, int(len(found) * 0.99) - 1)]
    return f"{name:<12} {len(found):>6} pages  median {statistics.median(found):5.1f}x  p99 {p99:5.1f}x  max {found[-1]:5.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench_dir", nargs="?", type=Path, default=DEFAULT_BENCH)
    args = parser.parse_args()
    pooled = []
    for corpus in sorted(p for p in args.bench_dir.iterdir() if p.is_dir()):
        if found := ratios(corpus):
            print(line(corpus.name, found))
            pooled += found
    print(line("pooled", sorted(pooled)))


if __name__ == "__main__":
    main()
