"""Publication-date benchmark: clippings' dating and htmldate, on every date corpus, in one run.

    python -m benchmarks.dates [BENCH_ROOT] [--corpus NAME] [--misses]

BENCH_ROOT is ../shared/bench beside the checkout by default; the corpora are `dates/`,
`meta/htmldate-default`, `meta/postlight` and `meta/postlight-repaired` (benchmarks/corpora.py).
Per corpus and pooled: the share of pages dated to the labelled day (no date counts as wrong),
pages dated at all, and, for labels that state an instant (a time with its offset), the share
dated to a day that instant falls on in some zone from UTC-12 to UTC+14. The methods take turns
page by page (benchmarks/turns.py): pages per second are comparable within one run only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from htmldate import find_date

from benchmarks.corpora import DATE_CORPORA, DEFAULT_ROOT, LabelledPage, available, load
from benchmarks.turns import take_turns, warm_up
from pipelines.core.extraction import NotAnArticle, date_page, parse_html

CLIPPINGS = "clippings date_page"
IN_ZONE = "clippings date_page, given the outlet's zone where the label names one"
BASELINE = "htmldate extensive, original_date=True"


def clippings_day(html: str, url: str, zone: str | None = None) -> str | None:
    """The crawl's own dating (extract_article calls date_page), on every page: a page
    with too little text to archive still has a date to find. No outlet time zone is known
    unless given (`zone`, as a topic file's outlet would give it)."""
    try:
        tree = parse_html(html)
    except NotAnArticle:
        return None
    return date_page(tree, url, time_zone=ZoneInfo(zone) if zone else None).day


def htmldate_original(html: str, url: str) -> str | None:
    return find_date(html, url=url, extensive_search=True, original_date=True)


def htmldate_default(html: str, url: str) -> str | None:
    return find_date(html, url=url)


DATERS: dict[str, Callable[[str, str], str | None]] = {
    CLIPPINGS: clippings_day,
    BASELINE: htmldate_original,
    "htmldate default (extensive, original_date=False)": htmldate_default,
}


def load_pages(root: Path, corpora: tuple[str, ...] = DATE_CORPORA) -> list[LabelledPage]:
    """Every dated page of the corpora present under root."""
    return [page for corpus in available(root, corpora) for page in load(root, corpus) if page.day]


def answers_of(daters: dict[str, Callable[[str, str], str | None]], pages: list[LabelledPage]) -> tuple[dict, dict]:
    """Each method's day per page (keyed by (corpus, name)) and its pages per second."""
    rows = [((page.corpus, page.name), page.url, page.html) for page in pages]
    warm_up(daters, rows)
    return take_turns(daters, rows)


def score(answers: dict, pages: list[LabelledPage]) -> tuple[int, int, int, int]:
    """(right day, dated at all, right in some zone, labels with an instant)."""
    right = sum(answers[(p.corpus, p.name)] == p.day for p in pages)
    found = sum(answers[(p.corpus, p.name)] is not None for p in pages)
    instants = [p for p in pages if p.instant is not None]
    zoned = sum(answers[(p.corpus, p.name)] in p.days_reached() for p in instants)
    return right, found, zoned, len(instants)


def table(answers: dict, speed: dict, pages: list[LabelledPage], corpus: str) -> str:
    lines = [
        f"{corpus} ({len(pages)} pages)",
        "",
        "| method | right day | date found | right in some zone (instants) | pages/s |",
        "|---|---|---|---|---|",
    ]
    for name in answers:
        if name == IN_ZONE and not any(p.zone for p in pages):
            continue
        right, found, zoned, instants = score(answers[name], pages)
        some_zone = f"{zoned / instants:.3f} ({zoned}/{instants})" if instants else "-"
        pace = f"{speed[name]:.1f}" if name in speed else "-"
        lines.append(f"| {name} | {right / len(pages):.3f} ({right}) | {found} | {some_zone} | {pace} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="the bench folder")
    parser.add_argument("--corpus", action="append", choices=DATE_CORPORA, help="only this corpus (repeatable)")
    parser.add_argument("--misses", action="store_true", help="list the pages clippings dates wrong")
    args = parser.parse_args(argv)
    pages = load_pages(args.root, tuple(args.corpus or DATE_CORPORA))
    if not pages:
        parser.error(f"no date corpus under {args.root}: give the bench folder as BENCH_ROOT")
    answers, speed = answers_of(DATERS, pages)
    zoned = [p for p in pages if p.zone]
    if zoned:  # what a topic file's outlet zones buy; untimed, so it does not enter the turns
        answers[IN_ZONE] = {**answers[CLIPPINGS], **{(p.corpus, p.name): clippings_day(p.html, p.url, p.zone) for p in zoned}}
    corpora = sorted({p.corpus for p in pages}, key=DATE_CORPORA.index)
    for corpus in corpora:
        print(table(answers, speed, [p for p in pages if p.corpus == corpus], corpus) + "\n")
    print(table(answers, speed, pages, f"pooled, {len(corpora)} corpora"))
    if args.misses:
        print()
        for page in pages:
            key = (page.corpus, page.name)
            if answers[CLIPPINGS][key] != page.day:
                print(
                    f"{page.corpus} {page.name}: got {answers[CLIPPINGS][key]}, label {page.day}, "
                    f"htmldate {answers[BASELINE][key]}  {page.url}"
                )


if __name__ == "__main__":
    main()
