"""An outlet's `article_patterns` on RE2 (what clippings runs) beside Python's re, in one run.

    python -m benchmarks.article_patterns [SHARED_BENCH_DIR] [--rounds N]

Two measurements. Ordinary patterns of the kind a topic lists, on the real article URLs of the
extraction and dates benchmarks (default ../shared/bench beside the checkout): microseconds per
URL, the engines taking turns round by round. Then a pattern that backtracks, `(a+)+$`, on URLs
of n a's and a "!": Python's re doubles its time with each a; RE2 does not depend on the pattern.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from benchmarks.article_urls import DEFAULT_DATA, benchmark_urls
from pipelines.core.topic import article_pattern

# Patterns as topics write them: a date path, a section and slug, an id at the end.
ORDINARY_PATTERNS = [
    r"/20\d\d/\d\d/\d\d/",
    r"^https?://[^/]+/(news|world|us|uk|business|entertainment|culture)/[a-z0-9-]+",
    r"[-/](id|a|story)?\d{5,}(\.html?)?$",
    r"/article/[^/]+/[a-z0-9-]+-id[A-Z0-9]+$",
]
BACKTRACKING_PATTERN = r"(a+)+$"
BACKTRACKING_LENGTHS = (16, 18, 20, 22, 24)


def per_url_microseconds(patterns, urls: list[str]) -> float:
    started = time.perf_counter()
    for url in urls:
        any(p.search(url) for p in patterns)
    return (time.perf_counter() - started) / len(urls) * 1e6


def ordinary(urls: list[str], rounds: int) -> tuple[float, float]:
    """Best round of each engine (the least disturbed by the machine's other work)."""
    engines = {"re": [re.compile(p) for p in ORDINARY_PATTERNS], "re2": [article_pattern(p) for p in ORDINARY_PATTERNS]}
    best = {name: float("inf") for name in engines}
    for _ in range(rounds):
        for name, patterns in engines.items():
            best[name] = min(best[name], per_url_microseconds(patterns, urls))
    return best["re"], best["re2"]


def one_search_seconds(pattern, url: str) -> float:
    started = time.perf_counter()
    pattern.search(url)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    urls = benchmark_urls(args.data)
    with_re, with_re2 = ordinary(urls, args.rounds)
    print(f"Ordinary patterns ({len(ORDINARY_PATTERNS)}), {len(urls)} real article URLs, best of {args.rounds} rounds\n")
    print("| engine | µs per URL | ratio to re |\n|---|---|---|")
    print(f"| re | {with_re:.2f} | 1.00 |\n| RE2 | {with_re2:.2f} | {with_re2 / with_re:.2f} |")
    print(f'\n`{BACKTRACKING_PATTERN}` on http://g.example/ + n a\'s + "!"\n')
    print("| n | re (s) | RE2 (s) | re / RE2 |\n|---|---|---|---|")
    backtracking = re.compile(BACKTRACKING_PATTERN), article_pattern(BACKTRACKING_PATTERN)
    for n in BACKTRACKING_LENGTHS:
        url = "http://g.example/" + "a" * n + "!"
        seconds = [one_search_seconds(engine, url) for engine in backtracking]
        print(f"| {n} | {seconds[0]:.4f} | {seconds[1]:.6f} | {seconds[0] / seconds[1]:,.0f} |")
    long_url = "http://g.example/" + "a" * 5000 + "!"
    print(f"\nRE2 on n = 5,000 (re would take about 2^5000 steps): {one_search_seconds(backtracking[1], long_url):.6f} s")


if __name__ == "__main__":
    main()
