"""Ablation of the body, dating, title and author rules: each turned off in turn, over every corpus.

    python -m benchmarks.ablation [BENCH_ROOT] [--only body|dates|metadata] [--rule NAME]

BENCH_ROOT is ../shared/bench beside the checkout by default. The body rules of
pipelines/core/extraction.py are measured by benchmarks/body_ablation.py (F1 on every body corpus;
`--rule` picks some). For every rule of
pipelines/core/dating.py (DatingRules) and pipelines/core/metadata.py (MetadataRules), the score on each
corpus and pooled with the rule off, beside all rules on. Dates: the share of pages dated to
the labelled day (no date is wrong), then, at equal accuracy, fewer wrong dates; a page whose
label names the site's time zone is dated with it, as a topic file's outlet would give it, and
a label that states an instant without naming a zone accepts any day the instant falls on.
Titles and authors: the share equal to the label (benchmarks/metadata.py), and the document's
<title> without the site's name alone. A rule stays when turning it off lowers the pooled score
and raises no corpus by more than 0.002.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from htmldate import find_date

from benchmarks import body_ablation, metadata
from benchmarks.corpora import DEFAULT_ROOT, LabelledPage
from benchmarks.dates import load_pages
from pipelines.core.dating import RULES, DatingRules, date_publication, json_ld_articles
from pipelines.core.extraction import NotAnArticle, parse_html
from pipelines.core.metadata import METADATA_RULES, MetadataRules

TOLERANCE = 0.002


@dataclasses.dataclass
class DatedPage:
    """A page read once: its tree, JSON-LD and htmldate's answer are the same under every rule."""

    page: LabelledPage
    tree: object | None
    json_ld: list
    htmldate_value: str | None


def read_dated(pages: list[LabelledPage]) -> list[DatedPage]:
    today = dt.date.today().isoformat()
    read = []
    for page in pages:
        try:
            tree = parse_html(page.html)
        except NotAnArticle:
            read.append(DatedPage(page, None, [], None))
            continue
        htmldate_value = find_date(tree, url=page.url, original_date=True, extensive_search=True, max_date=today)
        read.append(DatedPage(page, tree, list(json_ld_articles(tree)), htmldate_value))
    return read


def date_scores(read: list[DatedPage], rules: DatingRules) -> dict[str, tuple[int, int, int]]:
    """(right, wrong, pages) per corpus and pooled ("pooled")."""
    scores: dict[str, list[int]] = {}
    for item in read:
        day = None
        if item.tree is not None:
            zone = ZoneInfo(item.page.zone) if item.page.zone else None
            day = date_publication(
                item.tree, item.page.url, item.htmldate_value, json_ld=item.json_ld, time_zone=zone, rules=rules
            ).day
        right = is_right(day, item.page)
        for corpus in (item.page.corpus, "pooled"):
            score = scores.setdefault(corpus, [0, 0, 0])
            score[0] += right
            score[1] += day is not None and not right
            score[2] += 1
    return {corpus: tuple(score) for corpus, score in scores.items()}


def is_right(day: str | None, page: LabelledPage) -> bool:
    """The labelled day; for a label that states an instant without naming the site's time zone
    (its day is the UTC day only by convention), any day the instant falls on in some zone."""
    return day == page.day or (page.instant is not None and not page.zone and day in page.days_reached())


def verdict(base: dict, without: dict, corpora: list[str]) -> str:
    """Keep a rule whose removal lowers the pooled score and raises no corpus by more than
    TOLERANCE (at equal accuracy, fewer wrong answers count as better)."""

    def share(score: tuple, index: int = 0) -> float:
        return score[index] / score[-1]

    def rank(score: tuple) -> tuple[float, float]:  # right first; then, for dates, fewer wrong
        return share(score), -share(score, 1) if len(score) == 3 else 0.0

    lower = rank(without["pooled"]) < rank(base["pooled"])
    harmless = all(share(without[c]) - share(base[c]) <= TOLERANCE for c in corpora)
    return "keep" if lower and harmless else "drop"


def date_table(read: list[DatedPage]) -> str:
    corpora = sorted({item.page.corpus for item in read})
    base = date_scores(read, RULES)
    lines = [
        "| dating rule off | " + " | ".join(corpora) + " | pooled | wrong dates (pooled) | verdict |",
        "|---" * (len(corpora) + 4) + "|",
        _date_row("(all rules on)", base, corpora, ""),
    ]
    for rule in dataclasses.fields(DatingRules):
        without = date_scores(read, dataclasses.replace(RULES, **{rule.name: False}))
        lines.append(_date_row(rule.name, without, corpora, verdict(base, without, corpora)))
    return "\n".join(lines)


def _date_row(name: str, scores: dict, corpora: list[str], verdict_text: str) -> str:
    cells = [f"{scores[c][0] / scores[c][2]:.3f}" for c in [*corpora, "pooled"]]
    return f"| {name} | " + " | ".join(cells) + f" | {scores['pooled'][1]} | {verdict_text} |"


METADATA_FIELDS = ("title", "<title> cleaned", "authors")


def metadata_table(pages: list[LabelledPage]) -> str:
    corpora = sorted({page.corpus for page in pages})
    read = metadata.read_pages(pages)
    base = metadata.scores(read, METADATA_RULES)
    columns = [f"{field} {corpus}" for field in METADATA_FIELDS for corpus in [*corpora, "pooled"]]
    lines = [
        "| title/author rule off | " + " | ".join(columns) + " | verdict |",
        "|---" * (len(columns) + 2) + "|",
        _metadata_row("(all rules on)", base, corpora, ""),
    ]
    for rule in dataclasses.fields(MetadataRules):
        without = metadata.scores(read, dataclasses.replace(METADATA_RULES, **{rule.name: False}))
        lines.append(_metadata_row(rule.name, without, corpora, metadata_verdict(base, without, corpora)))
    return "\n".join(lines)


def metadata_verdict(base: dict, without: dict, corpora: list[str]) -> str:
    """Keep a rule that some field loses without it, and whose removal raises no field of any
    corpus by more than TOLERANCE."""
    verdicts = [verdict({c: base[c][f] for c in base}, {c: without[c][f] for c in without}, corpora) for f in METADATA_FIELDS]
    harmless = all(
        without[c][f][0] / without[c][f][1] - base[c][f][0] / base[c][f][1] <= TOLERANCE for c in corpora for f in METADATA_FIELDS
    )
    return "keep" if "keep" in verdicts and harmless else "drop"


def _metadata_row(name: str, scores: dict, corpora: list[str], verdict_text: str) -> str:
    cells = [f"{scores[c][f][0] / scores[c][f][1]:.3f}" for f in METADATA_FIELDS for c in [*corpora, "pooled"]]
    return f"| {name} | " + " | ".join(cells) + f" | {verdict_text} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="the bench folder")
    parser.add_argument("--only", choices=("body", "dates", "metadata"), help="one part of the ablation")
    parser.add_argument("--rule", action="append", choices=list(body_ablation.RULES), help="only this body rule (repeatable)")
    args = parser.parse_args(argv)
    if args.only in (None, "body"):
        try:
            print("Body text:\n\n" + body_ablation.run(args.root, args.rule) + "\n")
        except ValueError as error:
            parser.error(str(error))
    if args.only in (None, "dates"):
        pages = load_pages(args.root)
        if not pages:
            parser.error(f"no date corpus under {args.root}: give the bench folder as BENCH_ROOT")
        print(f"Dates: {len(pages)} pages\n\n" + date_table(read_dated(pages)) + "\n")
    if args.only in (None, "metadata"):
        pages = metadata.load_pages(args.root)
        if not pages:
            parser.error(f"no title or author corpus under {args.root}: give the bench folder as BENCH_ROOT")
        print(f"Titles and authors: {len(pages)} pages\n\n" + metadata_table(pages))


if __name__ == "__main__":
    main()
