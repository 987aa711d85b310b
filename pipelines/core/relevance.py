"""Relate an article to the topic: which keywords and people it names, where, how often, and why it is on-topic."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from pipelines.core.topic import Topic


class OffTopic(Exception):
    """The article does not belong to the topic: the message says why."""


@dataclass(frozen=True)
class Match:
    term: str  # the keyword, or the person's id
    in_title: int
    in_body: int


@dataclass(frozen=True)
class TopicMatch:
    keywords: tuple[Match, ...]
    people: tuple[Match, ...]
    score: int
    reason: str


class TopicMatcher:
    """Compiled once per topic; match() is then a pair of regex scans."""

    def __init__(self, topic: Topic):
        self.topic = topic
        self.people = {p.id: p for p in topic.people}
        self._keywords = _alternation({_fold(k): k for term in topic.keywords for k in _keyword_forms(term)}, re.IGNORECASE)
        self._keyword_of = {_fold(form).lower(): term for term in topic.keywords for form in _keyword_forms(term)}
        names = {_fold(name): p.id for p in topic.people for name in (p.name, *p.aliases)}
        self._names = _alternation(names, 0)
        self._person_of = names

    def match(self, title: str | None, text: str) -> TopicMatch:
        keyword_counts = _count(self._keywords, title, text, self._keyword_term)
        people_counts = _count(self._names, title, text, self._person_id)
        keywords = tuple(Match(term, *counts) for term, counts in keyword_counts.items())
        people = tuple(Match(pid, *counts) for pid, counts in people_counts.items())
        score, reason = self._score(keywords, people)
        return TopicMatch(keywords, people, score, reason)

    def _score(self, keywords: tuple[Match, ...], people: tuple[Match, ...]) -> tuple[int, str]:
        weights = self.topic.relevance
        counted = [p for p in people if self.people[p.term].role in weights.counting_roles]
        score = sum(weights.title_weight if m.in_title else weights.body_weight for m in (*keywords, *counted))
        named = [f"{m.term!r}" for m in keywords] + [self.people[m.term].name for m in counted]
        reason = f"score {score} (minimum {weights.min_score}) from " + (", ".join(named) or "no keyword or counted person")
        return score, reason

    def term_spans(self, tokens: list[str]) -> list[tuple[int, int, str]]:
        """(first, last, term) for each keyword or person found in `tokens` (a text's words, in
        order): the positions of the match's first and last word, in text order.

        Matching runs on the folded words, so positions are the original words'.
        """
        starts, position = [], 0
        for token in tokens:
            starts.append(position)
            position += len(_fold(token)) + 1
        folded = " ".join(_fold(t) for t in tokens)
        found = []
        for pattern, term_of in ((self._keywords, self._keyword_term), (self._names, self._person_name)):
            for match in pattern.finditer(folded) if pattern else ():
                first = bisect.bisect_right(starts, match.start()) - 1
                last = bisect.bisect_right(starts, match.end() - 1) - 1
                found.append((first, last, term_of(match.group(0))))
        return sorted(found)

    def _keyword_term(self, matched: str) -> str:
        return self._keyword_of[matched.lower()]

    def _person_id(self, matched: str) -> str:
        return self._person_of[matched]

    def _person_name(self, matched: str) -> str:
        return self.people[self._person_id(matched)].name

    def decide(self, title: str | None, text: str) -> TopicMatch:
        """The match of an on-topic article; raises OffTopic with the reason otherwise."""
        found = self.match(title, text)
        if found.score < self.topic.relevance.min_score:
            raise OffTopic(f"off-topic: {found.reason}")
        return found


def _keyword_forms(term: str) -> list[str]:
    """A hashtag also matches its bare word: "#MeToo" -> "#MeToo", "MeToo"."""
    return [term, term[1:]] if term.startswith("#") and len(term) > 2 else [term]


def _alternation(terms: dict[str, str], flags: int) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first, so "Bob Weinstein" wins over the alias "Weinstein".
    ordered = sorted(terms, key=len, reverse=True)
    body = "|".join(re.escape(t) for t in ordered)
    return re.compile(rf"(?<![\w#])(?:{body})(?!\w)", flags)


def _count(pattern, title, text, key) -> dict[str, tuple[int, int]]:
    if pattern is None:
        return {}
    in_title = Counter(key(m.group(0)) for m in pattern.finditer(_fold(title or "")))
    in_body = Counter(key(m.group(0)) for m in pattern.finditer(_fold(text)))
    return {term: (in_title[term], in_body[term]) for term in sorted(in_title | in_body)}


def _fold(text: str) -> str:
    """Accents and typographic apostrophes folded, so "Godreche" finds "Godrèche"."""
    text = text.replace("’", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
