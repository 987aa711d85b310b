"""The versions of one article (the texts its URL gave over time): their order, and what each changed."""

from __future__ import annotations

import difflib

from pipelines.core.items import FetchedPage


def captured_at(page: FetchedPage) -> str:
    """When a page's text was on the web: a web archive's time for an archived copy, else the fetch's."""
    return page.archived_at or page.fetched_at


def words_changed(before: str, after: str) -> tuple[int, int]:
    """Words added and words removed from `before` to `after`: the size of a word diff."""
    matcher = difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def numbered(texts: list[str]) -> list[tuple[int, int, int]]:
    """(version number, words added, words removed) for texts in capture order: from 1, each
    against the one before; the first adds and removes nothing."""
    changes = [(0, 0)] + [words_changed(before, after) for before, after in zip(texts, texts[1:])]
    return [(number, added, removed) for number, (added, removed) in enumerate(changes[: len(texts)], start=1)]


def takes_article_place(version_captured_at: str, article_captured_at: str, text_is_another_article: bool) -> bool:
    """The article shows its earliest captured text (the story as first published): a version
    captured earlier takes its place, unless another article already has that text."""
    return version_captured_at < article_captured_at and not text_is_another_article
