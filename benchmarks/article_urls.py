"""The web-archive spiders' URL filter on real article URLs: the article-URL heuristic beside a
keyword-in-the-URL filter, in one run.

    python -m benchmarks.article_urls [SHARED_BENCH_DIR] [--misses]

Two sets of real URLs: the article pages of the extraction and dates benchmarks (every one an
article, on any subject; default ../shared/bench beside the checkout), and the seed articles of
topics/metoo.yml (every one on-topic), where the keyword filter is measured too. A filter's
recall is the share of these article URLs it lets through; on the archives, each URL it wrongly
refuses is an article never fetched. (Precision, what the filter spares, needs a CDX listing of
real outlets, which cannot be fetched here.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crawlers.articleurls import ArticleUrls, heuristic_refusal
from pipelines.core.topic import load_topic

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = CHECKOUT.parent / "shared" / "bench"


def benchmark_urls(data: Path) -> list[str]:
    extraction = json.loads((data / "extraction" / "ground-truth.json").read_text())
    dates = json.loads((data / "dates" / "labels.json").read_text())
    return [page["url"] for page in extraction.values()] + [page["url"] for page in dates.values()]


def keeps_article_url(url: str) -> bool:
    return heuristic_refusal(url) is None


def recall(urls: list[str], keeps) -> tuple[int, list[str]]:
    missed = [url for url in urls if not keeps(url)]
    return len(urls) - len(missed), missed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--misses", action="store_true", help="list the URLs each filter refuses")
    args = parser.parse_args(argv)
    topic = load_topic(CHECKOUT / "topics" / "metoo.yml")
    article_urls = ArticleUrls(topic)
    heuristic = ("article-URL heuristic", keeps_article_url)
    keywords = ("metoo keyword in the URL (as a filter)", article_urls.rank)
    runs = [
        ("benchmark article pages", benchmark_urls(args.data), [heuristic]),
        ("metoo.yml seed articles", [url for outlet in topic.outlets for url in outlet.seeds], [heuristic, keywords]),
    ]
    print("| URLs | filter | kept | recall |\n|---|---|---|---|")
    misses = []
    for set_name, urls, filters in runs:
        for filter_name, keeps in filters:
            kept, missed = recall(urls, keeps)
            print(f"| {set_name} ({len(urls)}) | {filter_name} | {kept} | {kept / len(urls):.3f} |")
            misses += [f"{filter_name}: {url}" for url in missed]
    if args.misses:
        print("\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
