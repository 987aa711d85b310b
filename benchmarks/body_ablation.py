"""Ablation of the article-body rules: each rule of pipelines/core/extraction.py turned off in turn, every body corpus.

    python -m benchmarks.ablation [BENCH_ROOT] --only body [--rule NAME]

For every rule, clippings' extraction runs over all pages of the body benchmark
(benchmarks/extraction.py) with that one rule off and everything else as it is, and the table
gives, per corpus and pooled, what the rule adds: F1 with it minus F1 without it. A rule earns its
place when it raises the pooled F1 (by MIN_POOLED_GAIN at least: a gain the table can show) and
costs no corpus more than MAX_CORPUS_COST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from unittest import mock

from benchmarks.extraction import CORPORA, THRESHOLDS, Page, load_corpora
from benchmarks.scoring import score_corpus, score_page
from pipelines.core import extraction
from pipelines.core.extraction import NotAnArticle, extract_article

MAX_CORPUS_COST = 0.002
MIN_POOLED_GAIN = 0.0001


def _unchanged(text: str, *args: object, **kwargs: object) -> str:
    return text


# Each rule and how to turn it off: the module attributes replaced while it is off.
RULES: dict[str, dict[str, object]] = {
    "keep_sentences_whole (hover cards, link wrappers)": {"keep_sentences_whole": lambda tree: tree},
    "recall where precision misses prose (with_recall)": {"misses_prose": lambda page, text: False},
    "with_recall: recall's whole text for a stub": {"STUB_SHARE": 0.0},
    "fallback extractors below 100 words": {"FALLBACK_BELOW_WORDS": 0},
    "drop_leading_title": {"drop_leading_title": _unchanged},
    "drop_leading_link_list": {"drop_leading_link_list": _unchanged},
    "drop_inline_promotions": {"drop_inline_promotions": _unchanged},
    "drop_trailing_chrome": {"drop_trailing_chrome": _unchanged},
    "listing refusal (teaser cards)": {"listing_reason": lambda tree, text: None},
    "minimum words (MIN_ARTICLE_WORDS)": {},  # off: extract_article(min_words=0), see run_without
    "unread elements stripped before trafilatura (speed)": {"UNREAD_ELEMENTS": ()},
}
MIN_WORDS_RULE = "minimum words (MIN_ARTICLE_WORDS)"
# Done for speed, not for the text: kept if it costs no corpus more than MAX_CORPUS_COST.
SPEED_RULES = {"unread elements stripped before trafilatura (speed)"}


@contextmanager
def rule_off(name: str) -> Iterator[None]:
    """Everything as in production but the rule `name`."""
    with mock.patch.multiple(extraction, **RULES[name]) if RULES[name] else nullcontext():
        yield


def f1_by_corpus(pages: list[Page], min_words: int = THRESHOLDS.min_article_words) -> dict[str, float]:
    """clippings' F1 on each corpus and pooled, as the crawl stores text (a refused page: empty)."""
    scores = {page.key: score_page(_text(page, min_words), page.truth) for page in pages}
    corpora = {corpus: [page for page in pages if page.corpus == corpus] for corpus in dict.fromkeys(p.corpus for p in pages)}
    f1 = {corpus: score_corpus(scores[page.key] for page in group).f1 for corpus, group in corpora.items()}
    f1["pooled"] = score_corpus(scores.values()).f1
    return f1


def _text(page: Page, min_words: int) -> str | None:
    try:
        return extract_article(page.html, page.url, min_words=min_words).text
    except NotAnArticle:
        return None


def run_without(name: str, pages: list[Page]) -> dict[str, float]:
    if name == MIN_WORDS_RULE:
        return f1_by_corpus(pages, min_words=0)
    with rule_off(name):
        return f1_by_corpus(pages)


def verdict(gains: dict[str, float], for_speed: bool = False) -> str:
    """Keep: the rule raises the pooled F1 by MIN_POOLED_GAIN and costs no corpus more than
    MAX_CORPUS_COST (a rule for speed: only the second)."""
    worst = min(gain for corpus, gain in gains.items() if corpus != "pooled")
    if for_speed:
        return "keep (speed)" if worst >= -MAX_CORPUS_COST else "drop"
    return "keep" if gains["pooled"] >= MIN_POOLED_GAIN and worst >= -MAX_CORPUS_COST else "drop"


def table(full: dict[str, float], without: dict[str, dict[str, float]]) -> str:
    columns = list(full)
    lines = [
        "| rule off | " + " | ".join(f"{c} gain" for c in columns) + " | verdict |",
        "|---|" + "---|" * (len(columns) + 1),
        "| (all rules on: F1) | " + " | ".join(f"{full[c]:.4f}" for c in columns) + " | |",
    ]
    for name, f1 in without.items():
        gains = {c: full[c] - f1[c] for c in columns}
        lines.append(
            f"| {name} | " + " | ".join(f"{gains[c]:+.5f}" for c in columns) + f" | {verdict(gains, name in SPEED_RULES)} |"
        )
    return "\n".join(lines)


def run(root: Path, rules: list[str] | None = None, progress: Callable[[str], None] = print) -> str:
    """The body table over every body corpus under `root` (ValueError when a corpus is missing)."""
    if missing := [c for c in CORPORA if not (root / c / "ground-truth.json").exists()]:
        raise ValueError(f"no ground-truth.json for {', '.join(missing)} under {root}: give the bench folder as BENCH_ROOT")
    pages = load_corpora(root)
    full = f1_by_corpus(pages)
    without = {}
    for name in rules or RULES:
        progress(f"... {name}")
        without[name] = run_without(name, pages)
    return table(full, without)
