"""Every answer the body, date and metadata benchmarks read, recorded, to show that a change meant
to make the extraction faster (or tidier) changes none of them.

    python -m benchmarks.answers record FILE [BENCH_ROOT]   # default ../shared/bench
    python -m benchmarks.answers compare BEFORE AFTER

`record` writes, as JSON, for every page of the body corpora the article extract_article stores
(text, title, authors, date with its candidates, language, flags; or the reason it refuses the
page), and for every page of the date and metadata corpora what date_page and page_metadata
answer. `compare` lists the pages whose answers differ and exits 1 when any does. Record on the
code before a change and after it, on the same corpora.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from benchmarks.corpora import DATE_CORPORA, DEFAULT_ROOT, TITLE_CORPORA, available, load
from benchmarks.extraction import CORPORA, THRESHOLDS, load_corpora
from pipelines.core.extraction import NotAnArticle, date_page, extract_article, parse_html
from pipelines.core.metadata import page_metadata


def answers(root: Path) -> dict[str, object]:
    """Each page's answers, by corpus and page."""
    found: dict[str, object] = {}
    for page in load_corpora(root, [corpus for corpus in CORPORA if (root / corpus / "ground-truth.json").exists()]):
        try:
            found[f"article {page.key}"] = dataclasses.asdict(
                extract_article(page.html, page.url, min_words=THRESHOLDS.min_article_words)
            )
        except NotAnArticle as refusal:
            found[f"article {page.key}"] = f"refused: {refusal}"
    for corpus in available(root, tuple(dict.fromkeys(DATE_CORPORA + TITLE_CORPORA))):
        for page in load(root, corpus):
            key = f"{corpus}/{page.name}"
            try:
                found[f"date {key}"] = dataclasses.asdict(date_page(parse_html(page.html), page.url))
                found[f"metadata {key}"] = dataclasses.asdict(page_metadata(parse_html(page.html), page.url))
            except NotAnArticle as refusal:
                found[f"date {key}"] = found[f"metadata {key}"] = f"refused: {refusal}"
    return found


def differences(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """The pages whose answers differ, or that only one of the records has."""
    return [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="write every answer to FILE")
    record.add_argument("file", type=Path)
    record.add_argument("root", type=Path, nargs="?", default=DEFAULT_ROOT)
    compare = commands.add_parser("compare", help="list the pages whose answers differ")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        found = answers(args.root)
        args.file.write_text(json.dumps(found, ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8")
        print(f"{len(found)} answers written to {args.file}")
        return
    before, after = (json.loads(path.read_text(encoding="utf-8")) for path in (args.before, args.after))
    changed = differences(before, after)
    for key in changed:
        print(f"{key}\n  before: {str(before.get(key))[:300]}\n  after:  {str(after.get(key))[:300]}")
    print(f"{len(changed)} of {len(dict.fromkeys([*before, *after]))} answers differ")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
