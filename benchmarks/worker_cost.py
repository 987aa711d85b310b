"""Worker cost per page: the CPU time an extraction worker spends on a page, in one process,
warm, beside trafilatura alone on the same pages, in one run.

    python -m benchmarks.worker_cost [DATA_DIR] [--rounds 3]

On the extraction benchmark's pages (DATA_DIR, default ../shared/bench/extraction), after one
untimed pass of every method over every page (first-use loading is not a page's cost: the
crawl's workers start with it loaded, pipelines/workers/preload.py), the methods take turns page by page
for --rounds passes. Each call is timed with time.process_time, this process's CPU time, so that
other processes on a shared machine do not count (their load still slows caches and clocks):

- trafilatura.extract(html, url=url, include_comments=False), as benchmarks/extraction.py calls it;
- clippings' extract_article(html, url) (MIN_ARTICLE_WORDS: short pages are rejected);
- page_analysis, what the crawl's workers run: noarchive check, decoding, extract_article and the
  topic match (the crawl benchmark's mirror topic, on which nearly every article is on topic).

Prints milliseconds of CPU a page for each, and the ratio to trafilatura's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.crawl_throughput import KEYWORDS
from benchmarks.extraction import DEFAULT_DATA, THRESHOLDS, load_pages, trafilatura_text
from pipelines.core.analysis import Rejected, page_analysis
from pipelines.core.extraction import NotAnArticle, extract_article
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.topic import parse_topic

BASELINE = "trafilatura.extract(include_comments=False)"


def mirror_matcher() -> TopicMatcher:
    topic = {
        "name": "mirror",
        "title": "Every page",
        "window": {"start": "1990-01-01", "end": "2030-12-31"},
        "relevance": {"min_score": 2, "counting_roles": ["accused"]},
        "keywords": KEYWORDS,
        "people": [{"name": "Harvey Weinstein", "role": "accused"}],
    }
    return TopicMatcher(parse_topic(topic))


def methods(matcher: TopicMatcher) -> dict[str, Callable[[str, str], object]]:
    def clippings_extract(html: str, url: str) -> object:
        try:
            return extract_article(html, url, min_words=THRESHOLDS.min_article_words, thin_words=THRESHOLDS.thin_words)
        except NotAnArticle as reason:
            return reason

    def worker_analysis(html: str, url: str) -> object:
        page = FetchedPage(
            url,
            url,
            200,
            {"content-type": ["text/html; charset=utf-8"]},
            html.encode("utf-8"),
            "2026-01-01T00:00:00+00:00",
            "seeds",
            "benchmark",
        )
        try:
            return page_analysis(page, frozenset(), matcher, THRESHOLDS)
        except Rejected as reason:
            return reason

    return {
        BASELINE: trafilatura_text,
        "clippings extract_article": clippings_extract,
        "clippings page_analysis (a worker's call)": worker_analysis,
    }


def cpu_per_page(timed: dict[str, Callable[[str, str], object]], pages: list, rounds: int) -> dict[str, float]:
    """CPU seconds a page of each method, warm, taking turns page by page."""
    for method in timed.values():
        for _, url, html, _ in pages:
            method(html, url)
    seconds = dict.fromkeys(timed, 0.0)
    for _ in range(rounds):
        for _, url, html, _ in pages:
            for name, method in timed.items():
                started = time.process_time()
                method(html, url)
                seconds[name] += time.process_time() - started
    return {name: total / (rounds * len(pages)) for name, total in seconds.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="extraction benchmark folder")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the pages (default 3)")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        parser.error(f"no ground-truth.json in {args.data}: give the benchmark folder as DATA")
    pages = load_pages(args.data)
    results = cpu_per_page(methods(mirror_matcher()), pages, args.rounds)
    print(f"{len(pages)} pages from {args.data}, {args.rounds} rounds\n")
    print("| method | CPU ms a page | vs trafilatura |\n|---|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds * 1000:.2f} | {seconds / results[BASELINE]:.2f}x |")


if __name__ == "__main__":
    main()
