"""Titles and authors benchmark: clippings' metadata and trafilatura's, on every corpus that labels them.

    python -m benchmarks.metadata [BENCH_ROOT] [--misses]

BENCH_ROOT is ../shared/bench beside the checkout by default; the corpora are `meta/postlight` and
`meta/postlight-repaired` (benchmarks/corpora.py). A title is right when it equals the label after
Unicode NFKC, case folding and keeping only word characters; an author list when it is the same
set of names after that normalisation. Pages whose label has no title (or no author, or asserts
there is none) are not scored for it. Per corpus and pooled, side by side in one run.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import trafilatura
from trafilatura.metadata import extract_metadata

from benchmarks.corpora import DEFAULT_ROOT, TITLE_CORPORA, LabelledPage, available, load, normalised, same_names
from pipelines.core.dating import json_ld_articles
from pipelines.core.extraction import NotAnArticle, parse_html
from pipelines.core.metadata import METADATA_RULES, MetadataRules, SiteNames, clean_title, page_metadata, read_metadata

CLIPPINGS = "clippings page_metadata"
Answer = tuple[str | None, list[str]]


def clippings_metadata(html: str, url: str, rules: MetadataRules = METADATA_RULES) -> Answer:
    """The title and authors extract_article stores, on every page (a page too thin to archive
    still has a title to read)."""
    try:
        tree = parse_html(html)
    except NotAnArticle:
        return None, []
    found = page_metadata(tree, url, rules)
    return found.title, found.authors


def trafilatura_bare(html: str, url: str) -> Answer:
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if document is None:
        return None, []
    return document.title, _names(document.author)


def trafilatura_metadata(html: str, url: str) -> Answer:
    document = extract_metadata(html, default_url=url)
    return document.title, _names(document.author)


def _names(author: str | None) -> list[str]:
    """trafilatura joins the names it finds with "; "."""
    return [name.strip() for name in (author or "").split(";") if name.strip()]


READERS: dict[str, Callable[[str, str], Answer]] = {
    CLIPPINGS: clippings_metadata,
    "trafilatura bare_extraction(with_metadata=True)": trafilatura_bare,
    "trafilatura extract_metadata": trafilatura_metadata,
}


def load_pages(root: Path) -> list[LabelledPage]:
    """Every page of the corpora present under root with a labelled title or author list."""
    return [p for c in available(root, TITLE_CORPORA) for p in load(root, c) if p.title or p.authors is not None]


@dataclasses.dataclass
class ReadPage:
    """A page parsed once, for scoring clippings under several rule sets (benchmarks/ablation.py)."""

    page: LabelledPage
    tree: object | None


def read_pages(pages: list[LabelledPage]) -> list[ReadPage]:
    read = []
    for page in pages:
        try:
            read.append(ReadPage(page, parse_html(page.html)))
        except NotAnArticle:
            read.append(ReadPage(page, None))
    return read


def scores(read: list[ReadPage], rules: MetadataRules) -> dict[str, dict[str, tuple[int, int]]]:
    """{corpus or "pooled": {field: (right, labelled)}} for clippings, the fields being "title",
    "authors" and "<title> cleaned": the document's <title> without the site's name, as the title
    falls back to when no headline on the page agrees (it measures the site-name rules alone)."""
    answers, fallbacks = {}, {}
    for item in read:
        key = (item.page.corpus, item.page.name)
        found = page_metadata(item.tree, item.page.url, rules) if item.tree is not None else None
        answers[key] = (found.title, found.authors) if found else (None, [])
        fallbacks[key] = (_cleaned_title_element(item.tree, item.page.url, rules), []) if found else (None, [])
    counted = tally(answers, [item.page for item in read])
    for corpus, score in tally(fallbacks, [item.page for item in read]).items():
        counted[corpus]["<title> cleaned"] = score["title"]
    return counted


def _cleaned_title_element(tree, url: str, rules: MetadataRules) -> str | None:
    element = tree.find(".//title")
    site = SiteNames.of(read_metadata(tree, url).sitename, url, list(json_ld_articles(tree)))
    return clean_title(element.text_content(), site, rules) if element is not None else None


def tally(answers: dict, pages: list[LabelledPage]) -> dict[str, dict[str, tuple[int, int]]]:
    counts: dict[str, dict[str, list[int]]] = {}
    for page in pages:
        title, authors = answers[(page.corpus, page.name)]
        for corpus in (page.corpus, "pooled"):
            score = counts.setdefault(corpus, {"title": [0, 0], "authors": [0, 0]})
            if page.title:
                score["title"][0] += normalised(title) == normalised(page.title)
                score["title"][1] += 1
            if page.authors is not None:
                score["authors"][0] += same_names(authors, page.authors)
                score["authors"][1] += 1
    return {corpus: {field: tuple(value) for field, value in score.items()} for corpus, score in counts.items()}


def run(pages: list[LabelledPage]) -> dict[str, dict]:
    """Each reader's answer per page, keyed by (corpus, name), taking turns page by page."""
    answers: dict[str, dict] = {name: {} for name in READERS}
    for page in pages:
        for name, reader in READERS.items():
            answers[name][(page.corpus, page.name)] = reader(page.html, page.url)
    return answers


def table(answers: dict[str, dict], pages: list[LabelledPage]) -> str:
    corpora = sorted({p.corpus for p in pages})
    header = " | ".join(f"{c} {field}" for field in ("title", "authors") for c in [*corpora, "pooled"])
    lines = [f"| method | {header} |", "|---" * (2 * len(corpora) + 3) + "|"]
    for name, by_page in answers.items():
        counted = tally(by_page, pages)
        cells = [
            f"{counted[c][field][0] / counted[c][field][1]:.3f} ({counted[c][field][0]}/{counted[c][field][1]})"
            for field in ("title", "authors")
            for c in [*corpora, "pooled"]
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="the bench folder")
    parser.add_argument("--misses", action="store_true", help="list the pages clippings gets wrong")
    args = parser.parse_args(argv)
    pages = load_pages(args.root)
    if not pages:
        parser.error(f"no title or author corpus under {args.root}: give the bench folder as BENCH_ROOT")
    answers = run(pages)
    print(f"{len(pages)} pages\n\n" + table(answers, pages))
    if args.misses:
        print()
        for page in pages:
            title, authors = answers[CLIPPINGS][(page.corpus, page.name)]
            if page.title and normalised(title) != normalised(page.title):
                print(f"{page.corpus} {page.name} title: {title!r}, label {page.title!r}")
            if page.authors is not None and not same_names(authors, page.authors):
                print(f"{page.corpus} {page.name} authors: {authors!r}, label {list(page.authors)!r}")


if __name__ == "__main__":
    main()
