"""The research thresholds a run applies: which pages are kept, how texts are flagged and grouped.

Their defaults are settings (crawlers/settings.py, where each is explained); every command reads
them through one loader (crawlers.addons.project_settings) and hands them down as a Thresholds.
Each run records the values it used (crawl_runs.settings), and the datasheet reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Thresholds field -> its setting's name.
SETTING_NAMES = {
    "min_article_words": "MIN_ARTICLE_WORDS",
    "thin_words": "THIN_WORDS",
    "boilerplate_min_articles": "BOILERPLATE_MIN_ARTICLES",
    "story_similarity": "STORY_SIMILARITY",
}


class SettingError(ValueError):
    """A setting with a value a command cannot use; the message names it."""


@dataclass(frozen=True)
class Thresholds:
    min_article_words: int  # fewer words: rejected as not an article
    thin_words: int  # fewer words: kept, flagged `thin`
    boilerplate_min_articles: int  # a line repeated in this many of an outlet's articles is dropped
    story_similarity: float  # texts at least this similar (estimated Jaccard) are one story

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        """From anything with .get(NAME) (a Scrapy Settings, a dict); SettingError names a bad value."""
        return cls(
            min_article_words=setting_number(settings, "MIN_ARTICLE_WORDS"),
            thin_words=setting_number(settings, "THIN_WORDS"),
            boilerplate_min_articles=setting_number(settings, "BOILERPLATE_MIN_ARTICLES", 1),
            story_similarity=setting_share(settings, "STORY_SIMILARITY"),
        )

    def as_settings(self) -> dict[str, int | float]:
        """{setting name: value}, as a run records them."""
        return {name: getattr(self, field) for field, name in SETTING_NAMES.items()}


def setting_number(settings: Any, name: str, least: int = 0, kind: type = int) -> int | float:
    value = settings.get(name)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be a number, not {value!r}") from None
    if number < least:
        raise SettingError(f"{name} must be at least {least}, not {value!r}")
    return number


def setting_share(settings: Any, name: str) -> float:
    """A number from 0 to 1 (a share, a similarity)."""
    share = setting_number(settings, name, 0, float)
    if share > 1:
        raise SettingError(f"{name} must be between 0 and 1, not {settings.get(name)!r}")
    return share
