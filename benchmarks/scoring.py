"""The article-body benchmark's scoring: 4-token shingle multisets, page-normalised, then averaged."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4


@dataclass(frozen=True)
class PageScore:
    precision: float
    recall: float
    predicted_any: bool  # precision counts only for pages where the prediction had a shingle


@dataclass(frozen=True)
class CorpusScore:
    f1: float
    precision: float
    recall: float


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter:
    """Overlapping runs of `size` tokens, counted."""
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def score_page(predicted: str | None, truth: str) -> PageScore:
    """tp/fp/fn of shingles; a page where nothing is extra and nothing missing scores 1, 1."""
    guess, wanted = shingles(predicted or ""), shingles(truth)
    tp = sum((guess & wanted).values())
    fp = sum(guess.values()) - tp
    fn = sum(wanted.values()) - tp
    if fp == fn == 0:
        return PageScore(1.0, 1.0, bool(guess))
    # Dividing by the sum (so a page weighs the same whatever its length) leaves the
    # ratios below unchanged; the benchmark states it, the arithmetic needs no step for it.
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return PageScore(precision, recall, bool(guess))


def score_corpus(pages: Iterable[PageScore]) -> CorpusScore:
    """Mean precision over pages with any predicted shingle, mean recall over all, their F1."""
    pages = list(pages)
    predicted = [p.precision for p in pages if p.predicted_any]
    precision = sum(predicted) / len(predicted) if predicted else 0.0
    recall = sum(p.recall for p in pages) / len(pages) if pages else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return CorpusScore(f1, precision, recall)


def word_recall(predicted: str | None, truth: str) -> float:
    """The share of the true words (`\\w+` tokens, counted) the prediction holds: how much of the
    article an extractor kept, for counting the articles it lost whole."""
    wanted = Counter(TOKEN.findall(truth))
    kept = Counter(TOKEN.findall(predicted or ""))
    total = sum(wanted.values())
    return sum((wanted & kept).values()) / total if total else 1.0


def fold_of(name: str, folds: int = 2) -> int:
    """A page's fold (0 or 1) by a hash of its file name: fixed, and blind to what the page holds,
    so a change that helps one half and hurts the other shows it is tuned to pages, not general."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % folds
