"""Article-body benchmark: clippings' extraction beside trafilatura's three modes, every body corpus, one run.

    python -m benchmarks.extraction [DATA_ROOT] [--corpus NAME] [--misses] [--no-speed]

DATA_ROOT holds the corpora (default: ../shared/bench beside the checkout): `extraction/`,
`body/big9`, `body/wcxb-dev`, `body/readability`, each with html/ID.html.gz and
ground-truth.json. Prints, per corpus and pooled over all pages, each extractor's F1, precision
and recall (benchmarks/scoring.py), its pages with no text, and its articles lost whole; then
clippings' speed as a share of trafilatura's default mode, timed on the same pages in turns.
`--misses` lists the pages where clippings scores below trafilatura's best mode, worst first.

Then the text flags clippings stores (`thin`, `truncated`, `paywalled`: text_flags), judged
against the truth, which is a whole article: per corpus and pooled, how often each fires, how
often it is right and how often it misfires (see flag_verdict). On the metadata corpora
(`dates/`, `meta/`: no true body) only how often each fires; `--no-unlabelled` skips them.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from benchmarks import corpora as metadata_corpora
from benchmarks.scoring import PageScore, score_corpus, score_page, word_recall
from benchmarks.turns import take_turns, warm_up
from crawlers.addons import project_settings
from pipelines.core.dating import json_ld_articles
from pipelines.core.extraction import (
    NotAnArticle,
    count_words,
    decode_html,
    extract_article,
    extract_body,
    parse_html,
    stated_body,
    text_flags,
)
from pipelines.core.thresholds import Thresholds

THRESHOLDS = Thresholds.from_settings(project_settings())  # the crawl's (crawlers/settings.py)

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = CHECKOUT.parent / "shared" / "bench"
DEFAULT_DATA = DEFAULT_ROOT / "extraction"  # the Scrapinghub pages, which other benchmarks use alone
CORPORA = ("extraction", "body/big9", "body/wcxb-dev", "body/readability")
# Pages saved without their address get this one, the same for every extractor: no rule may
# depend on it (clippings reads no article from a URL's shape).
NEUTRAL_URL = "https://example.org/page"
# "Lost whole": the extractor keeps under LOST_BELOW of the true words where trafilatura's
# default mode keeps FOUND_FROM or more. In a crawl such a page is a reject or a stub.
LOST_BELOW = 0.5
FOUND_FROM = 0.8
FLAGS = ("thin", "truncated", "paywalled")


@dataclass(frozen=True)
class Page:
    corpus: str
    page_id: str
    url: str
    html: str
    truth: str

    @property
    def key(self) -> str:
        return f"{self.corpus}/{self.page_id}"


def load_corpus(root: Path, corpus: str) -> list[Page]:
    """The corpus's pages, HTML decoded as UTF-8 as the corpora are stored."""
    folder = root / corpus
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(
            corpus,
            page_id,
            record["url"] or NEUTRAL_URL,
            gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", errors="replace"),
            record["articleBody"],
        )
        for page_id, record in sorted(truth.items())
    ]


def load_corpora(root: Path = DEFAULT_ROOT, corpora: Iterable[str] = CORPORA) -> list[Page]:
    return [page for corpus in corpora for page in load_corpus(root, corpus)]


def load_pages(data: Path = DEFAULT_DATA) -> list[tuple[str, str, str, str]]:
    """(id, url, html, true body) per page of one corpus folder, for the benchmarks that replay pages."""
    return [(page.page_id, page.url, page.html, page.truth) for page in load_corpus(data.parent, data.name)]


def clippings_text(html: str, url: str) -> str | None:
    """The text the crawl stores (the crawl's own minimum of words); a page it refuses predicts nothing."""
    try:
        return extract_article(html, url, min_words=THRESHOLDS.min_article_words).text
    except NotAnArticle:
        return None


def clippings_body(html: str, url: str) -> str | None:
    """The body step alone (parsing included; no metadata, dates, language or listing check)."""
    try:
        return extract_body(parse_html(decode_html(html)), url)
    except NotAnArticle:
        return None


def trafilatura_text(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False)


def trafilatura_with_metadata(html: str, url: str) -> str | None:
    """trafilatura doing the whole job extract_article does: the text with its title, authors,
    site name and date (htmldate, which trafilatura calls with its extensive search)."""
    return trafilatura.extract(html, url=url, include_comments=False, with_metadata=True)


def trafilatura_precision(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False, favor_precision=True)


def trafilatura_recall(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False, favor_recall=True)


CLIPPINGS = "clippings extract_article"
BASELINE = "trafilatura default"
BODY_ONLY = "clippings extract_body alone"
WITH_METADATA = "trafilatura default, with_metadata=True"
EXTRACTORS: dict[str, Callable[[str, str], str | None]] = {
    CLIPPINGS: clippings_text,
    BASELINE: trafilatura_text,
    "trafilatura favor_precision": trafilatura_precision,
    "trafilatura favor_recall": trafilatura_recall,
}
# Timed beside the others, not scored: how much of clippings' time the body takes, and trafilatura
# when it reads the metadata too (title, authors, date), as extract_article does.
TIMED_ONLY = {BODY_ONLY: clippings_body, WITH_METADATA: trafilatura_with_metadata}


@dataclass
class Results:
    texts: dict[str, dict[str, str | None]]  # extractor -> page key -> text
    pages_per_second: dict[str, float]


def run(extractors: dict[str, Callable[[str, str], str | None]], pages: list[Page], timed: bool = True) -> Results:
    """Every extractor on every page. Timed: one untimed pass first (one-time loading is not
    per-page speed), then the extractors take turns page by page."""
    turns = [(page.key, page.url, page.html) for page in pages]
    if not timed:
        texts = {name: {key: extract(html, url) for key, url, html in turns} for name, extract in extractors.items()}
        return Results(texts, {})
    warm_up(extractors, turns)
    texts, speed = take_turns(extractors, turns)
    return Results(texts, speed)


@dataclass(frozen=True)
class CorpusRow:
    f1: float
    precision: float
    recall: float
    empty: int
    lost_whole: int
    pages: int


def corpus_row(texts: dict[str, str | None], baseline: dict[str, str | None], pages: list[Page]) -> CorpusRow:
    scores = [score_page(texts[page.key], page.truth) for page in pages]
    score = score_corpus(scores)
    empty = sum(not (texts[page.key] or "").strip() for page in pages)
    lost = sum(is_lost_whole(texts[page.key], baseline[page.key], page.truth) for page in pages)
    return CorpusRow(score.f1, score.precision, score.recall, empty, lost, len(pages))


def is_lost_whole(text: str | None, baseline: str | None, truth: str) -> bool:
    return word_recall(text, truth) < LOST_BELOW and word_recall(baseline, truth) >= FOUND_FROM


def stored_flags(page: Page, text: str | None) -> list[str]:
    """The flags extract_article stores with `text` (the crawl's THIN_WORDS); a refused page has none."""
    if text is None:
        return []
    tree = parse_html(decode_html(page.html))
    json_ld = list(json_ld_articles(tree))
    return text_flags(text, tree, THRESHOLDS.thin_words, stated_body(tree, json_ld), json_ld)


def flag_verdict(flag: str, text: str | None, truth: str) -> str | None:
    """A flag says the stored text is less than a full article. The truth is the whole article, so
    the flag is "right" where the text keeps under LOST_BELOW of its words (or, for `thin`, where
    the article itself is under THIN_WORDS), and "misfired" where the text keeps FOUND_FROM or
    more of it; in between (part of the article kept) it is neither."""
    recall = word_recall(text, truth)
    if recall < LOST_BELOW or (flag == "thin" and count_words(truth) < THRESHOLDS.thin_words):
        return "right"
    return "misfired" if recall >= FOUND_FROM else None


@dataclass(frozen=True)
class FlagRow:
    fired: int
    right: int
    misfired: int


def flag_rows(texts: dict[str, str | None], pages: list[Page]) -> dict[str, FlagRow]:
    """Per flag: on how many of `pages` clippings' stored text carries it, rightly and wrongly."""
    verdicts: dict[str, list[str | None]] = {flag: [] for flag in FLAGS}
    for page in pages:
        text = texts[page.key]
        for flag in stored_flags(page, text):
            verdicts[flag].append(flag_verdict(flag, text, page.truth))
    return {flag: FlagRow(len(v), v.count("right"), v.count("misfired")) for flag, v in verdicts.items()}


def flags_table(results: Results, pages: list[Page]) -> str:
    """Each flag on each corpus and pooled: fired, right, misfired (flag_verdict)."""
    texts = results.texts[CLIPPINGS]
    lines = [
        f"text flags of {CLIPPINGS} (right: the text keeps under {LOST_BELOW:.0%} of the true words, or for thin"
        f" the true article is under {THRESHOLDS.thin_words} words; misfired: it keeps {FOUND_FROM:.0%} or more)",
        "",
        "| corpus | stored pages | flag | fired | right | misfired |",
        "|---|---|---|---|---|---|",
    ]
    for corpus, group in by_corpus(pages).items():
        stored = sum(texts[page.key] is not None for page in group)
        for flag, row in flag_rows(texts, group).items():
            lines.append(f"| {corpus} | {stored} | {flag} | {row.fired} | {row.right} | {row.misfired} |")
    return "\n".join(lines)


def by_corpus(pages: list[Page]) -> dict[str, list[Page]]:
    """The pages of each corpus, and all of them pooled when there are several corpora."""
    groups = {corpus: [page for page in pages if page.corpus == corpus] for corpus in dict.fromkeys(p.corpus for p in pages)}
    if len(groups) > 1:
        groups["pooled"] = pages
    return groups


def tables(results: Results, pages: list[Page]) -> str:
    """One table per corpus and one pooled over all pages."""
    blocks = []
    for corpus, group in by_corpus(pages).items():
        lines = [
            f"{corpus} ({len(group)} pages)",
            "",
            "| extractor | F1 | P | R | empty | lost whole |",
            "|---|---|---|---|---|---|",
        ]
        for name, texts in results.texts.items():
            if name in TIMED_ONLY:
                continue
            row = corpus_row(texts, results.texts[BASELINE], group)
            lines.append(f"| {name} | {row.f1:.4f} | {row.precision:.4f} | {row.recall:.4f} | {row.empty} | {row.lost_whole} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def unlabelled_flags_table(root: Path) -> str:
    """How often each flag fires on the metadata corpora's pages (no true body to judge it by),
    extracted as the crawl extracts them (its minimum of words and THIN_WORDS)."""
    lines = ["| corpus | pages | stored | " + " | ".join(FLAGS) + " |", "|---|---|---|" + "---|" * len(FLAGS)]
    for corpus in metadata_corpora.available(root, metadata_corpora.DATE_CORPORA):
        pages = metadata_corpora.load(root, corpus)
        fired = dict.fromkeys(FLAGS, 0)
        stored = 0
        for page in pages:
            try:
                article = extract_article(
                    page.html, page.url or NEUTRAL_URL, min_words=THRESHOLDS.min_article_words, thin_words=THRESHOLDS.thin_words
                )
            except NotAnArticle:
                continue
            stored += 1
            for flag in article.text_flags:
                fired[flag] += 1
        lines.append(f"| {corpus} | {len(pages)} | {stored} | " + " | ".join(str(fired[flag]) for flag in FLAGS) + " |")
    return "\n".join(lines)


def speed_line(results: Results, pages: list[Page]) -> str:
    speed = results.pages_per_second
    parts = ", ".join(f"{name} {speed[name]:.1f}" for name in speed)
    lines = [
        f"pages/s over the {len(pages)} pages: {parts}",
        f"clippings / trafilatura default speed: {speed[CLIPPINGS] / speed[BASELINE]:.2f}x",
    ]
    if BODY_ONLY in speed:
        lines.append(f"clippings' body step alone / trafilatura default speed: {speed[BODY_ONLY] / speed[BASELINE]:.2f}x")
    if WITH_METADATA in speed:
        lines.append(f"clippings / trafilatura default with its metadata: {speed[CLIPPINGS] / speed[WITH_METADATA]:.2f}x")
    return "\n".join(lines)


def misses(results: Results, pages: list[Page]) -> list[str]:
    """Pages where clippings' F1 is below the best trafilatura mode's, worst first."""
    rows = []
    for page in pages:
        mine = score_page(results.texts[CLIPPINGS][page.key], page.truth)
        best = max(
            (
                score_page(texts[page.key], page.truth)
                for name, texts in results.texts.items()
                if name != CLIPPINGS and name not in TIMED_ONLY
            ),
            key=page_f1,
        )
        if page_f1(mine) < page_f1(best):
            rows.append((page_f1(mine) - page_f1(best), page, mine, best))
    return [
        f"{gap:+.3f} {page.key}: P {mine.precision:.3f} R {mine.recall:.3f} (best mode P {best.precision:.3f} "
        f"R {best.recall:.3f})  {page.url}"
        for gap, page, mine, best in sorted(rows, key=lambda row: row[0])
    ]


def page_f1(score: PageScore) -> float:
    total = score.precision + score.recall
    return 2 * score.precision * score.recall / total if total else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_ROOT, help="folder holding the corpora")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="only this corpus (repeatable)")
    parser.add_argument("--misses", action="store_true", help="list the pages where clippings scores below trafilatura")
    parser.add_argument("--no-speed", action="store_true", help="skip the timing (one pass, no warm-up)")
    parser.add_argument("--no-unlabelled", action="store_true", help="skip the flags on the dates/ and meta/ pages")
    args = parser.parse_args(argv)
    corpora = args.corpus or CORPORA
    if missing := [c for c in corpora if not (args.data / c / "ground-truth.json").exists()]:
        parser.error(f"no ground-truth.json for {', '.join(missing)} under {args.data}: give the folder holding the corpora")
    pages = load_corpora(args.data, corpora)
    results = run(EXTRACTORS if args.no_speed else {**EXTRACTORS, **TIMED_ONLY}, pages, timed=not args.no_speed)
    print(tables(results, pages))
    print()
    print(flags_table(results, pages))
    if not args.no_unlabelled:
        print()
        print("text flags on the metadata corpora (no true body: how often each fires)")
        print()
        print(unlabelled_flags_table(args.data))
    if not args.no_speed:
        print()
        print(speed_line(results, pages))
    if args.misses:
        print()
        print("\n".join(misses(results, pages)))


if __name__ == "__main__":
    main()
