"""A cheap test on a page's raw bytes: could it name one of the topic's keywords or people?

Run before any HTML is parsed, so a mostly off-topic web archive (CC-NEWS) costs little more
than reading it. It must never lose an on-topic page, so it errs towards yes:

- ASCII terms are looked for by their runs of ASCII letters and digits, each of which the page
  must hold (lowercased; the raw bytes are lowercased too, which touches ASCII only), the
  longest first. A run never spans a space,
  punctuation or an accented letter, so "Harvey&nbsp;<b>Weinstein</b>", "Weinstein&rsquo;s",
  "Godr&egrave;che", "Godr\\u00e8che" in JSON-LD and a page in any ASCII-compatible charset
  all still match ("weinstein", "godr").
- Terms whose runs are all short ("me too") are looked for as a pattern: their runs in order,
  separated by spaces, entities, tags or punctuation.
- Terms with no ASCII letters ("#米兔", "#Ятоже") are looked for in UTF-8 (as written,
  lowercased, uppercased), as HTML numeric entities and as JSON escapes, and in the page's
  declared charset when it is another one. UTF-16 pages are transcoded first.

The search for the terms' longest runs is one pass of a multi-pattern matcher over the page:
Hyperscan where it is installed (x86-64 Linux: about ten times faster on large pages, which
makes the prefilter cheaper than reading the WARC), else a pyahocorasick automaton. Both find
the same runs, and the same checks follow (tests run both).

Known limit: a term written without an accent the page gives it ("Godreche" for "Godrèche")
is missed when the accent falls inside its longest ASCII run; write topic terms as the press
spells them (the matcher folds accents either way).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from functools import lru_cache

import ahocorasick

from pipelines.core.topic import Topic

try:
    import hyperscan
except ImportError:  # not built for this platform: the automaton alone
    hyperscan = None

MIN_NEEDLE = 4  # shorter runs ("me", "too") are everywhere; they go into a pattern instead
ASCII_RUN = re.compile(r"[a-z0-9]+")
# What may stand between two words of a term in raw HTML: spaces, entities (&nbsp; &#160;),
# JSON escapes (\u00a0), tags, punctuation. Bounded, so the pattern stays cheap.
GAP = rb"(?:[^a-z0-9<&\\]|&#?[a-z0-9]{1,8};|\\u[0-9a-f]{4}|<[^<>]{0,300}>){1,40}"
NEAR = 2000  # bytes either side of a term's longest word in which its other words must be
JSON_ESCAPE = re.compile(rb"\\u[0-9a-f]{4}")  # "Godr\u00e8che": "che" is a word after the escape
WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
CHARSET = re.compile(rb"""charset\s*=\s*["']?([a-z0-9_.:-]+)""", re.IGNORECASE)


class Prefilter:
    """Compiled once per topic from its keywords and its people's names and aliases."""

    def __init__(self, terms: Iterable[str], engine: str | None = None):
        """`engine`: "hyperscan" or "automaton" for the runs' search; by default the fastest installed."""
        words, foreign = set(), []
        for term in sorted(set(terms)):
            runs = ASCII_RUN.findall(term.lower())
            if max(map(len, runs), default=0) >= MIN_NEEDLE:
                words.add(tuple(sorted({r.encode() for r in runs}, key=lambda r: (-len(r), r))))
            elif runs:
                words.add((GAP.join(re.escape(run.encode()) for run in runs),))
            else:
                foreign.append(term.lstrip("#"))
        self.foreign = tuple(foreign)
        # One pass of an Aho-Corasick automaton finds every term's longest run at once; the
        # term's other runs are then checked one by one. Terms with only short runs are a
        # pattern each ("me too").
        self.first_runs = ahocorasick.Automaton()
        self.patterns = []
        for term in _without_implied(words):
            if len(term[0]) >= MIN_NEEDLE and term[0].isalnum():
                rest = tuple(_word_pattern(word) for word in term[1:])
                length, known = self.first_runs.get(term[0].decode(), (len(term[0]), ()))
                self.first_runs.add_word(term[0].decode(), (length, (*known, rest)))
            else:
                self.patterns.append(_word_pattern(term[0]))
        for term in self.foreign:
            for needle in _encodings(term, "utf-8"):
                self.first_runs.add_word(needle.decode("latin-1"), None)
        self.first_runs.make_automaton()
        if engine is None:
            engine = "hyperscan" if hyperscan is not None else "automaton"
        self.scanner = _HyperscanRuns(dict(self.first_runs.items())) if engine == "hyperscan" else None

    @classmethod
    def for_topic(cls, topic: Topic, engine: str | None = None) -> Prefilter:
        names = [name for person in topic.people for name in (person.name, *person.aliases)]
        return cls([*topic.keywords, *names], engine)

    def may_match(self, body: bytes, content_type: str | None = None) -> bool:
        """False only when the page cannot name any of the terms."""
        if body.startswith((b"\xff\xfe", b"\xfe\xff")):
            body = body.decode("utf-16", errors="replace").encode()
        lowered = body.lower()
        if self._finds_runs(lowered):
            return True
        if any(_holds_word(lowered, pattern) for pattern in self.patterns):
            return True
        return bool(self.foreign) and self._names_foreign(body, lowered, content_type)

    def _finds_runs(self, lowered: bytes) -> bool:
        if self.scanner is not None:
            return self.scanner.finds(lowered, _confirms)
        text = lowered.decode("latin-1")  # one character per byte, for the automaton
        return any(_confirms(lowered, end + 1, found) for end, found in self.first_runs.iter(text))

    def _names_foreign(self, body: bytes, lowered: bytes, content_type: str | None) -> bool:
        """The foreign terms' forms in the page's own charset, when it declares another one."""
        charset = _declared_charset(content_type, body)
        if charset == "utf-8":
            return False
        return any(needle in body or needle in lowered for term in self.foreign for needle in _encodings(term, charset))


def _confirms(lowered: bytes, end: int, found: tuple | None) -> bool:
    """Whether a run found ending at `end` names its term: a foreign term's form (None) does; an
    ASCII run must be a whole word, with the term's other words near it, whatever markup lies between."""
    if found is None:
        return True
    length, terms = found
    start = end - length
    if not _is_word(lowered, start, end):
        return False
    around = lowered[max(0, start - NEAR) : end + NEAR]
    return any(all(_holds_word(around, word) for word in rest) for rest in terms)


class _HyperscanRuns:
    """The automaton's search by Hyperscan: the same literal byte strings, the same values."""

    def __init__(self, entries: dict[str, tuple | None]):
        self.values = list(entries.values())
        # Every byte escaped: the keys are literals (latin-1 stands for raw bytes), never regexes.
        expressions = [b"".join(b"\\x%02x" % byte for byte in key.encode("latin-1")) for key in entries]
        self.database = None
        if expressions:
            self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self.database.compile(
                expressions=expressions,
                ids=list(range(len(expressions))),
                elements=len(expressions),
                flags=[0] * len(expressions),
            )

    def finds(self, lowered: bytes, confirms) -> bool:
        if self.database is None:
            return False
        found = False

        def on_match(index: int, _start: int, end: int, _flags: int, _context) -> bool:
            nonlocal found
            found = confirms(lowered, end, self.values[index])
            return found  # True ends the scan

        try:
            self.database.scan(lowered, match_event_handler=on_match)
        except hyperscan.ScanTerminated:
            pass
        return found


def _word_pattern(word: bytes) -> re.Pattern[bytes]:
    # No lookbehind in the pattern: it would cost Python's regex engine its fast literal
    # search (20 times slower). _is_word checks the byte before instead.
    return re.compile(word + rb"(?![a-z0-9])")


def _holds_word(text: bytes, pattern: re.Pattern[bytes]) -> bool:
    return any(_is_word(text, found.start(), found.end()) for found in pattern.finditer(text))


def _is_word(text: bytes, start: int, end: int) -> bool:
    """No ASCII letter or digit right before (but for a JSON escape) or after: a word, not part of one."""
    before = start == 0 or text[start - 1] not in WORD_BYTES or JSON_ESCAPE.fullmatch(text[max(0, start - 6) : start])
    return before and (end == len(text) or text[end] not in WORD_BYTES)


def _without_implied(terms: set[tuple[bytes, ...]]) -> list[tuple[bytes, ...]]:
    """Drop a term whose words include all of another's: wherever it is found, so is the
    other ("harvey weinstein" goes, "weinstein" stays)."""
    return sorted(t for t in terms if not any(other != t and set(other) <= set(t) for other in terms))


def _declared_charset(content_type: str | None, body: bytes) -> str:
    for place in ((content_type or "").encode(), body[:4096]):
        if found := CHARSET.search(place):
            try:
                return codecs.lookup(found.group(1).decode("ascii")).name
            except LookupError:
                continue
    return "utf-8"


@lru_cache(maxsize=256)
def _encodings(term: str, charset: str) -> tuple[bytes, ...]:
    """The byte forms a non-ASCII term may take in a page: UTF-8 and the page's charset (as
    written, lower and upper case), decimal and hex character references, JSON escapes."""
    forms = {term, term.lower(), term.upper()}
    found = set()
    for form in forms:
        for encoding in {"utf-8", charset}:
            try:
                found.add(form.encode(encoding))
            except (UnicodeEncodeError, LookupError):
                pass
        found.add("".join(f"&#{ord(c)};" for c in form).encode())
        found.add("".join(f"&#x{ord(c):x};" for c in form).encode())
        found.add("".join(f"\\u{ord(c):04x}" for c in form).encode())
    return tuple(sorted(found))
