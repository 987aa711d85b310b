"""Takedown patterns: which URLs a takedown request covers ("*" matches any run of characters)."""

from __future__ import annotations

import re
from collections.abc import Iterable


class BadPattern(ValueError):
    """A takedown pattern that cannot be used: the message says why."""


def check_pattern(pattern: str) -> str:
    """The pattern, if it names http(s) URLs; a bare "*" would take down the whole archive."""
    pattern = pattern.strip()
    if not re.match(r"https?://[^*/]+", pattern):
        raise BadPattern(f"the takedown pattern {pattern!r} must start with http:// or https:// and a host name")
    return pattern


def pattern_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression matching every URL any of the patterns covers (None: no patterns)."""
    alternatives = [re.escape(p).replace(r"\*", ".*") for p in patterns]
    return re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None


class Takedowns:
    """The archive's takedown patterns, compiled once."""

    def __init__(self, patterns: Iterable[str]):
        self.patterns = list(patterns)
        self.regex = pattern_regex(self.patterns)

    def covers(self, url: str | None) -> str | None:
        """The first pattern covering the URL, or None."""
        if not url or self.regex is None or not self.regex.fullmatch(url):
            return None
        return next(p for p in self.patterns if pattern_regex([p]).fullmatch(url))
