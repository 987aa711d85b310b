"""A topic file: the window, keywords, people and outlets that define one story."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

ROLES = ("accuser", "accused", "movement", "reporter", "context")


class TopicError(Exception):
    """The topic file cannot be used; the message names the problem and where it is."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    domains: tuple[str, ...]
    country: str | None = None
    language: str | None = None
    homepage: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()
    # For the web-archive spiders (wayback, commoncrawl): URL prefixes to list instead of whole
    # domains (e.g. https://www.nytimes.com/2017/10/), and regular expressions that an article's
    # URL matches (instead of the generic article-URL heuristic of crawlers/articleurls.py).
    archive_prefixes: tuple[str, ...] = ()
    article_patterns: tuple[str, ...] = ()
    # The newsroom's clock, an IANA name ("America/New_York"): a time stamp the outlet writes
    # in UTC, or without an offset, is read on it, so an article has the outlet's own day.
    timezone: str | None = None

    def serves(self, url: str) -> bool:
        """True when the URL's host (with its port, if a domain names one) is this outlet's."""
        return any(_host_matches(url, domain) for domain in self.domains)

    @property
    def time_zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None


@dataclass(frozen=True)
class Relevance:
    """How matches add up to an on-topic decision (see docs in topics/metoo.yml)."""

    min_score: int = 2
    title_weight: int = 3
    body_weight: int = 1
    counting_roles: tuple[str, ...] = ("accuser", "accused", "movement")


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    start: dt.date
    end: dt.date
    keywords: tuple[str, ...]
    people: tuple[Person, ...]
    outlets: tuple[Outlet, ...]
    relevance: Relevance = field(default_factory=Relevance)
    description: str = ""
    sha256: str = ""
    path: str = ""
    text: str = ""  # the topic file as written, kept in the archive
    def in_window(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def time_zone_for(self, url: str) -> ZoneInfo | None:
        """The time zone of the outlet serving a URL, when the topic file gives it one."""
        outlet = self.outlet_for(url)
        return outlet.time_zone if outlet else None

    def outlet_for(self, url: str) -> Outlet | None:
        """The outlet serving a URL; a domain with a port beats a bare host match."""
        matches = [o for o in self.outlets if o.serves(url)]
        matches.sort(key=lambda o: max(len(d) for d in o.domains if _host_matches(url, d)))
        return matches[-1] if matches else None

    @property
    def allowed_domains(self) -> list[str]:
        """Host names for Scrapy's offsite filter (which ignores ports)."""
        return sorted({d.split(":")[0] for o in self.outlets for d in o.domains})


def _host_matches(url: str, domain: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    domain = domain.lower()
    if ":" in domain:
        name, port = domain.rsplit(":", 1)
        actual = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return host == name and str(actual) == port
    return host == domain or host.endswith("." + domain)


def load_topic(path: str | Path) -> Topic:
    """Read and validate a topic file; raises TopicError with a one-sentence reason."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:
        raise TopicError(f"cannot read topic file {path}: {error.strerror}") from error
    try:
        raw = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise TopicError(f"topic file {path} is not valid YAML{line}") from error
    topic = parse_topic(raw, source=str(path))
    digest = hashlib.sha256(raw_bytes).hexdigest()
    return replace(topic, sha256=digest, path=str(path), text=raw_bytes.decode("utf-8", errors="replace"))


def parse_topic(raw: Any, source: str = "topic") -> Topic:
    """Build a Topic from parsed YAML, naming the first problem found."""
    spec = _Spec(source)
    data = spec.mapping(raw, "the file")
    window = spec.mapping(data.get("window"), "window")
    start = spec.date(window.get("start"), "window.start")
    end = spec.date(window.get("end"), "window.end")
    if end < start:
        spec.fail(f"window.end ({end}) is before window.start ({start})")
    people = tuple(spec.person(p, i) for i, p in enumerate(spec.list(data.get("people"), "people")))
    outlets = tuple(spec.outlet(o, i) for i, o in enumerate(spec.list(data.get("outlets", []), "outlets", allow_empty=True)))
    spec.unique([p.id for p in people], "people")
    spec.unique([o.id for o in outlets], "outlets")
    return Topic(
        name=spec.text(data.get("name"), "name"),
        title=spec.text(data.get("title", data.get("name")), "title"),
        description=str(data.get("description") or "").strip(),
        start=start,
        end=end,
        keywords=tuple(spec.texts(data.get("keywords"), "keywords")),
        people=people,
        outlets=outlets,
        relevance=spec.relevance(data.get("relevance") or {}),
    )


def slug(text: str) -> str:
    """A readable id: "Judith Godrèche" -> "judith-godreche"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


class _Spec:
    """Validation helpers that know where in the file they are."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str) -> None:
        raise TopicError(f"{self.source}: {message}")

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(f"{where} must be a mapping of keys to values")
        return value

    def list(self, value: Any, where: str, allow_empty: bool = False) -> list:
        if not isinstance(value, list) or (not value and not allow_empty):
            self.fail(f"{where} must be a non-empty list")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where} must be a non-empty string")
        return value.strip()

    def texts(self, value: Any, where: str, allow_empty: bool = False) -> list[str]:
        if value is None and allow_empty:
            return []
        items = self.list(value, where, allow_empty)
        return [self.text(v, f"{where}[{i}]") for i, v in enumerate(items)]

    def date(self, value: Any, where: str) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{where} must be a date like 2017-10-01, not {value!r}")

    def unique(self, ids: list[str], where: str) -> None:
        seen = [i for n, i in enumerate(ids) if i in ids[:n]]
        if seen:
            self.fail(f"{where}: id {seen[0]!r} is used twice")

    def person(self, value: Any, index: int) -> Person:
        where = f"people[{index}]"
        data = self.mapping(value, where)
        name = self.text(data.get("name"), f"{where}.name")
        role = data.get("role")
        if role not in ROLES:
            self.fail(f"{where}.role for {name!r} must be one of {', '.join(ROLES)}, not {role!r}")
        aliases = self.texts(data.get("aliases"), f"{where}.aliases", allow_empty=True)
        return Person(id=slug(data.get("id") or name), name=name, role=role, aliases=tuple(aliases))

    def outlet(self, value: Any, index: int) -> Outlet:
        where = f"outlets[{index}]"
        data = self.mapping(value, where)
        name = self.text(data.get("name"), f"{where}.name")
        domains = self.texts(data.get("domains"), f"{where}.domains")
        urls = {k: self.urls(data.get(k), f"{where}.{k}") for k in ("feeds", "sitemaps", "seeds", "archive_prefixes")}
        homepage = data.get("homepage")
        return Outlet(
            id=slug(data.get("id") or name),
            name=name,
            domains=tuple(d.lower() for d in domains),
            country=data.get("country"),
            language=data.get("language"),
            homepage=self.urls([homepage], f"{where}.homepage")[0] if homepage else None,
            article_patterns=self.patterns(data.get("article_patterns"), f"{where}.article_patterns"),
            timezone=self.time_zone(data.get("timezone"), f"{where}.timezone", name),
            **urls,
        )

    def time_zone(self, value: Any, where: str, outlet: str) -> str | None:
        """An IANA time zone name that the tz database knows, or None when not given."""
        if value is None:
            return None
        try:
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            ZoneInfo(value.strip())
        except (ValueError, OSError, ZoneInfoNotFoundError):  # a directory ("Europe") is an OSError
            self.fail(f"{where} for {outlet!r} must be an IANA time zone name such as "
                      f"Europe/Paris or America/New_York, not {value!r}")
        return value.strip()

    def urls(self, value: Any, where: str) -> tuple[str, ...]:
        urls = self.texts(value, where, allow_empty=True)
        for i, url in enumerate(urls):
            if urlsplit(url).scheme not in ("http", "https"):
                self.fail(f"{where}[{i}] must be an http(s) URL, not {url!r}")
        return tuple(urls)

    def patterns(self, value: Any, where: str) -> tuple[str, ...]:
        patterns = self.texts(value, where, allow_empty=True)
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as error:
                self.fail(f"{where}[{i}] is not a regular expression ({error})")
        return tuple(patterns)

    def relevance(self, value: Any) -> Relevance:
        data = self.mapping(value, "relevance")
        defaults = Relevance()
        numbers = {}
        for key in ("min_score", "title_weight", "body_weight"):
            number = data.get(key, getattr(defaults, key))
            if not isinstance(number, int) or number < 0:
                self.fail(f"relevance.{key} must be a whole number >= 0, not {number!r}")
            numbers[key] = number
        roles = data.get("counting_roles", list(defaults.counting_roles))
        for role in self.texts(roles, "relevance.counting_roles"):
            if role not in ROLES:
                self.fail(f"relevance.counting_roles: {role!r} is not one of {', '.join(ROLES)}")
        return Relevance(counting_roles=tuple(roles), **numbers)
