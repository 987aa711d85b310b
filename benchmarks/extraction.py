"""Article-body benchmark: clippings' extraction and trafilatura alone, scored in one run.

    python -m benchmarks.extraction [DATA_DIR] [--fold 0|1] [--misses]

DATA_DIR holds html/ID.html.gz and ground-truth.json (default: ../shared/bench/extraction
beside the checkout). Prints F1, precision, recall and pages per second of each extractor,
then F1 on each half of the pages (folds by a hash of the page's id, benchmarks/scoring.py).
`--fold N` runs one half only; `--misses` lists the pages where clippings loses F1.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import trafilatura

from benchmarks.scoring import PageScore, fold_of, score_corpus, score_page
from benchmarks.turns import take_turns, warm_up
from pipelines.extraction import NotAnArticle, extract_article

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = CHECKOUT.parent / "shared" / "bench" / "extraction"


def clippings_text(html: str, url: str) -> str | None:
    """The crawl's own function; a page it refuses as no article predicts nothing."""
    try:
        return extract_article(html, url, min_words=0).text
    except NotAnArticle:
        return None


def trafilatura_text(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False)


def trafilatura_precision_text(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False, favor_precision=True)


EXTRACTORS: dict[str, Callable[[str, str], str | None]] = {
    "clippings extract_article": clippings_text,
    "trafilatura 2.3.1 extract(include_comments=False)": trafilatura_text,
    "trafilatura 2.3.1 favor_precision=True": trafilatura_precision_text,
}
BASELINE = "trafilatura 2.3.1 extract(include_comments=False)"


def load_pages(data: Path) -> list[tuple[str, str, str, str]]:
    """(id, url, html, true body) per page, HTML decoded as UTF-8 as the benchmark states."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, record in sorted(truth.items()):
        html = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", errors="replace")
        pages.append((page_id, record["url"], html, record["articleBody"]))
    return pages


def run(extractors: dict[str, Callable[[str, str], str | None]], pages: list) -> dict[str, tuple[dict[str, PageScore], float]]:
    """Each extractor's score per page and its pages per second, taking turns page by page."""
    warm_up(extractors, pages)
    predictions, speed = take_turns(extractors, pages)
    return {
        name: ({page_id: score_page(predictions[name][page_id], body) for page_id, _, _, body in pages}, speed[name])
        for name in extractors
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="benchmark folder")
    parser.add_argument("--only", action="append", help="run only these extractors (by name)")
    parser.add_argument("--fold", type=int, choices=(0, 1), help="run only this half of the pages")
    parser.add_argument("--misses", action="store_true", help="list the pages where clippings loses F1")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        parser.error(f"no ground-truth.json in {args.data}: give the benchmark folder as DATA")
    pages = [page for page in load_pages(args.data) if args.fold is None or fold_of(page[0]) == args.fold]
    results = run({name: extract for name, extract in EXTRACTORS.items() if not args.only or name in args.only}, pages)
    print(f"{len(pages)} pages from {args.data}\n")
    print(table(results))
    print()
    print(fold_table(results))
    if args.misses and (clippings := results.get("clippings extract_article")):
        print()
        for page_id, url, _, _ in sorted(pages, key=lambda page: _page_f1(clippings[0][page[0]])):
            if (score := clippings[0][page_id]).precision < 1 or score.recall < 1:
                print(f"{page_id} fold {fold_of(page_id)}: P {score.precision:.3f} R {score.recall:.3f}  {url}")


def _page_f1(score: PageScore) -> float:
    return 2 * score.precision * score.recall / (score.precision + score.recall) if score.precision + score.recall else 0.0


def table(results: dict[str, tuple[dict[str, PageScore], float]]) -> str:
    baseline_speed = results.get(BASELINE, (None, None))[1]
    lines = ["| extractor | F1 | P | R | pages/s | speed vs trafilatura |", "|---|---|---|---|---|---|"]
    for name, (scores, speed) in results.items():
        score = score_corpus(scores.values())
        ratio = f"{speed / baseline_speed:.2f}x" if baseline_speed else "-"
        lines.append(f"| {name} | {score.f1:.4f} | {score.precision:.4f} | {score.recall:.4f} | {speed:.1f} | {ratio} |")
    return "\n".join(lines)


def fold_table(results: dict[str, tuple[dict[str, PageScore], float]]) -> str:
    """F1 of each extractor on each half of the pages."""
    lines = ["| extractor | F1 fold 0 | F1 fold 1 |", "|---|---|---|"]
    for name, (scores, _) in results.items():
        halves = [score_corpus(s for page_id, s in scores.items() if fold_of(page_id) == fold) for fold in (0, 1)]
        lines.append(f"| {name} | {halves[0].f1:.4f} | {halves[1].f1:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
