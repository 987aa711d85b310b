"""The labelled metadata corpora of ../shared/bench (dates, titles, authors), read into one shape.

Layouts (../shared/bench/README.md): `dates/` has html/FILE.html and labels.json {FILE: {url,
date}}; each `meta/NAME/` has html/ID.html.gz and truth.json {ID: {url, published, ...}},
postlight's with title, authors and an instant in UTC (`...Z`) and, for some pages, the time
zone its extractor reads dates in (`published_zone`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines.core.extraction import decode_html

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = CHECKOUT.parent / "shared" / "bench"
DATE_CORPORA = ("dates", "meta/htmldate-default", "meta/postlight", "meta/postlight-repaired")
TITLE_CORPORA = ("meta/postlight", "meta/postlight-repaired")
# A UTC-12 .. UTC+14 day: the zones where people live.
EARLIEST, LATEST = dt.timedelta(hours=-12), dt.timedelta(hours=14)


@dataclass(frozen=True)
class LabelledPage:
    corpus: str
    name: str
    url: str
    html: str
    day: str | None = None  # the labelled publication day
    instant: dt.datetime | None = None  # when the label states a time with its offset
    zone: str | None = None  # the time zone the label's day is read in, when the source names one
    title: str | None = None
    authors: tuple[str, ...] | None = None  # None: not labelled (or asserted null), not scored

    def days_reached(self) -> set[str]:
        """The days the labelled instant falls on in some zone from UTC-12 to UTC+14."""
        if self.instant is None:
            return set()
        first, last = (self.instant + EARLIEST).date(), (self.instant + LATEST).date()
        return {(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}


def load(root: Path, corpus: str) -> list[LabelledPage]:
    """Every page of one corpus, sorted by name, its HTML decoded as the crawl decodes it."""
    folder = root / corpus
    if corpus == "dates":
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        return [
            LabelledPage(corpus, name, label["url"], decode_html((folder / "html" / name).read_bytes()), day=label["date"])
            for name, label in sorted(labels.items())
        ]
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return [_meta_page(corpus, folder, name, record) for name, record in sorted(truth.items())]


def _meta_page(corpus: str, folder: Path, name: str, record: dict) -> LabelledPage:
    html = decode_html(gzip.decompress((folder / "html" / f"{name}.html.gz").read_bytes()))
    asserted_null = record.get("asserted_null") or []
    day, instant = _labelled_day(record)
    authors = record.get("authors")
    return LabelledPage(
        corpus,
        name,
        record.get("url") or "",
        html,
        day=day,
        instant=instant,
        zone=record.get("published_zone"),
        title=record.get("title"),
        authors=tuple(authors) if authors is not None and "author" not in asserted_null else None,
    )


def _labelled_day(record: dict) -> tuple[str | None, dt.datetime | None]:
    """The day a label means and the instant it states, as bench/meta/postlight/README.md reads
    it: a date alone is its day; an instant is read in the site's zone when the label names one,
    else in UTC; an instant at exactly midnight UTC is a date that was read as UTC, not an instant."""
    published = record.get("published")
    if not published:
        return None, None
    if len(published) == 10:
        return published, None
    instant = dt.datetime.fromisoformat(published.replace("Z", "+00:00"))
    if instant.time() == dt.time(0):
        return instant.date().isoformat(), None
    zone = record.get("published_zone")
    local = instant.astimezone(ZoneInfo(zone)) if zone else instant
    return local.date().isoformat(), instant


def available(root: Path, corpora: tuple[str, ...]) -> list[str]:
    """The corpora present under root."""
    return [c for c in corpora if (root / c / ("labels.json" if c == "dates" else "truth.json")).exists()]


def normalised(text: str | None) -> str:
    """Text as the benchmark compares it: NFKC, case folded, word characters only."""
    return re.sub(r"\W", "", unicodedata.normalize("NFKC", text or "").casefold())


def same_names(predicted: list[str] | tuple[str, ...], labelled: tuple[str, ...]) -> bool:
    """The same set of names after normalisation (names that normalise to nothing are no names)."""
    return {normalised(n) for n in predicted} - {""} == {normalised(n) for n in labelled} - {""}
