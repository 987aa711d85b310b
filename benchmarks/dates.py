"""Publication-date benchmark: clippings' dating and htmldate alone, scored in one run.

    python -m benchmarks.dates [DATA_DIR] [--fold 0|1] [--misses]

DATA_DIR holds html/FILE.html and labels.json (default: ../shared/bench/dates beside the
checkout). Accuracy is the share of pages dated to the labelled day; no date counts as wrong.
Accuracy on each half of the pages follows (folds by a hash of the file name,
benchmarks/scoring.py); `--fold N` runs one half only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import trafilatura
from htmldate import find_date

from benchmarks.scoring import fold_of
from benchmarks.turns import take_turns, warm_up
from pipelines.extraction import NotAnArticle, date_page, decode_html, parse_html

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = CHECKOUT.parent / "shared" / "bench" / "dates"


def clippings_day(html: str, url: str) -> str | None:
    """The crawl's own dating (extract_article calls date_page), on every page: a page
    with too little text to archive still has a date to find."""
    try:
        tree = parse_html(decode_html(html))
    except NotAnArticle:
        return None
    return date_page(tree, url).day


def htmldate_fast(html: str, url: str) -> str | None:
    return find_date(html, url=url, extensive_search=False)


def htmldate_extensive(html: str, url: str) -> str | None:
    return find_date(html, url=url, extensive_search=True)


def trafilatura_day(html: str, url: str) -> str | None:
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return document.date if document else None


DATERS: dict[str, Callable[[str, str], str | None]] = {
    "clippings date_page": clippings_day,
    "htmldate 1.11 extensive_search=True": htmldate_extensive,
    "htmldate 1.11 extensive_search=False": htmldate_fast,
    "trafilatura 2.3.1 bare_extraction date": trafilatura_day,
}
BASELINE = "htmldate 1.11 extensive_search=True"


def load_pages(data: Path) -> list[tuple[str, str, str, str]]:
    """(file, url, html, labelled day) per page."""
    labels = json.loads((data / "labels.json").read_text(encoding="utf-8"))
    return [
        (name, label["url"], (data / "html" / name).read_bytes().decode("utf-8", errors="replace"), label["date"])
        for name, label in sorted(labels.items())
    ]


def run(daters: dict[str, Callable[[str, str], str | None]], pages: list) -> dict[str, tuple[float, int, float, dict]]:
    """Accuracy, pages dated at all, pages per second and each page's answer, per method,
    taking turns page by page."""
    warm_up(daters, pages)
    answers, speed = take_turns(daters, pages)
    results = {}
    for name in daters:
        right = sum(answers[name][page] == day for page, _, _, day in pages)
        found = sum(answers[name][page] is not None for page, _, _, _ in pages)
        results[name] = (right / len(pages), found, speed[name], answers[name])
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="benchmark folder")
    parser.add_argument("--misses", action="store_true", help="list the pages clippings gets wrong")
    parser.add_argument("--fold", type=int, choices=(0, 1), help="run only this half of the pages")
    args = parser.parse_args(argv)
    if not (args.data / "labels.json").exists():
        parser.error(f"no labels.json in {args.data}: give the benchmark folder as DATA")
    pages = [page for page in load_pages(args.data) if args.fold is None or fold_of(page[0]) == args.fold]
    results = run(DATERS, pages)
    print(f"{len(pages)} pages from {args.data}\n")
    print(table(results, len(pages)))
    print()
    print(fold_table(results, pages))
    if args.misses:
        answers = results["clippings date_page"][3]
        for name, url, _, day in pages:
            if answers[name] != day:
                print(f"{name} fold {fold_of(name)}: got {answers[name]}, label {day}  {url}")


def table(results: dict, total: int) -> str:
    baseline_speed = results[BASELINE][2]
    lines = ["| method | accuracy | date found | pages/s | speed vs htmldate extensive |", "|---|---|---|---|---|"]
    for name, (accuracy, found, speed, _) in results.items():
        lines.append(f"| {name} | {accuracy:.3f} | {found}/{total} | {speed:.1f} | {speed / baseline_speed:.2f}x |")
    return "\n".join(lines)


def fold_table(results: dict, pages: list) -> str:
    """Accuracy of each method on each half of the pages."""
    lines = ["| method | accuracy fold 0 | accuracy fold 1 |", "|---|---|---|"]
    for name, (_, _, _, answers) in results.items():
        halves = []
        for fold in (0, 1):
            labelled = [(page, day) for page, _, _, day in pages if fold_of(page) == fold]
            right = sum(answers[page] == day for page, day in labelled)
            halves.append(f"{right}/{len(labelled)} = {right / len(labelled):.3f}" if labelled else "-")
        lines.append(f"| {name} | {halves[0]} | {halves[1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
