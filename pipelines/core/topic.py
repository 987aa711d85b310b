"""A topic file: the window, keywords, people and outlets that define one story."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
import yaml

ROLES = ("accuser", "accused", "movement", "reporter", "context")


class TopicError(Exception):
    """The topic file cannot be used; the message names the problem and where it is.

    `problems` holds every problem found, one sentence each (the message starts with the first)."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


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
        return any(host_matches(url, domain) for domain in self.domains)

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
        matches.sort(key=lambda o: max(len(d) for d in o.domains if host_matches(url, d)))
        return matches[-1] if matches else None

    @property
    def allowed_domains(self) -> list[str]:
        """The outlets' domains as written (host, or host:port): what a crawl may fetch."""
        return sorted({d for o in self.outlets for d in o.domains})


def host_matches(url: str, domain: str) -> bool:
    """A domain with a port ("127.0.0.1:8101") is that host and port only; a bare one is the
    host and its subdomains, on any port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    domain = domain.lower()
    if ":" in domain:
        name, port = domain.rsplit(":", 1)
        try:
            actual = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:  # a port out of range: no site's
            return False
        return host == name and str(actual) == port
    return host == domain or host.endswith("." + domain)


# A topic file of the largest stories runs to a few hundred kilobytes; past this it is not one.
MAX_TOPIC_BYTES = 16 * 1024 * 1024
READ_CHUNK_BYTES = 1 << 16
# The default topic nests five levels (the file, its outlets, an outlet, its feeds, a URL).
MAX_NESTING = 20
TOPIC_KEYS = ("name", "title", "description", "window", "relevance", "keywords", "people", "outlets")
WINDOW_KEYS = ("start", "end")
PERSON_KEYS = tuple(f.name for f in fields(Person))
OUTLET_KEYS = tuple(f.name for f in fields(Outlet))
RELEVANCE_KEYS = tuple(f.name for f in fields(Relevance))
URL_LISTS = ("feeds", "sitemaps", "seeds", "archive_prefixes")  # an outlet's lists of URLs
# RE2 reports a bad pattern in the exception; its own log line on stderr would only repeat it.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def load_topic(path: str | Path) -> Topic:
    """Read and validate a topic file; raises TopicError with a one-sentence reason per problem."""
    path = Path(path)
    raw_bytes = _read_bytes(path)
    raw = read_yaml(raw_bytes, f"topic file {path}")
    topic = parse_topic(raw, source=str(path))
    digest = hashlib.sha256(raw_bytes).hexdigest()
    return replace(topic, sha256=digest, path=str(path), text=raw_bytes.decode("utf-8", errors="replace"))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read in chunks up to the bound: a device or a huge file is not read whole,
    and a small file costs no buffer of the bound's size (read(n) would allocate n bytes first)."""
    chunks, size = [], 0
    try:
        with path.open("rb") as stream:
            while size <= MAX_TOPIC_BYTES and (chunk := stream.read(READ_CHUNK_BYTES)):
                chunks.append(chunk)
                size += len(chunk)
    except OSError as error:
        raise TopicError(f"cannot read topic file {path}: {error.strerror}") from error
    if size > MAX_TOPIC_BYTES:
        raise TopicError(
            f"topic file {path} is larger than {MAX_TOPIC_BYTES // 2**20} MB; list many URLs in a file for --urls instead"
        )
    return b"".join(chunks)


def read_yaml(data: bytes | str, what: str) -> Any:
    """The YAML document in `data`, read by the topic loader (no aliases, bounded nesting)."""
    try:
        return yaml.load(data, Loader=_TopicLoader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as error:
        raise TopicError(f"{what} {error}") from None
    except yaml.reader.ReaderError as error:
        raise TopicError(f"{what} is not UTF-8 text (byte {error.position}: {error.reason})") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        problem = f" ({error.problem})" if getattr(error, "problem", None) else ""
        raise TopicError(f"{what} is not valid YAML{line}{problem}") from None
    except ValueError as error:  # a number too long for int(), say
        raise TopicError(f"{what} holds a value that cannot be read ({str(error).split(';')[0]})") from None


class _Refused(yaml.YAMLError):
    """Valid YAML that a topic file has no use for and a hostile one abuses."""


class _TopicLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, and refusing deep nesting.

    An alias repeats a value without copying it, so nine aliases of nine aliases of ... ("billion
    laughs") load in no time and expand to billions of values as soon as anything walks them. The
    composer recurses once per level of nesting, so a deep enough file ends in RecursionError."""

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"uses a YAML alias (*{event.anchor}) at line {event.start_mark.line + 1}; "
                "topic files may not use aliases: write the value out"
            )
        if self.depth >= MAX_NESTING:
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"nests values more than {MAX_NESTING} levels deep at line {line}; the default topic needs five")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_timestamp(self, node):
        """A date that does not exist (2017-02-30) stays text, which the topic check then names."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_TopicLoader.add_constructor("tag:yaml.org,2002:timestamp", _TopicLoader.construct_yaml_timestamp)


def parse_topic(raw: Any, source: str = "topic") -> Topic:
    """Build a Topic from parsed YAML; TopicError names the first problem and lists them all."""
    spec = _Spec(source)
    topic = spec.attempt(spec.topic, raw)
    if spec.problems:
        first, more = spec.problems[0], len(spec.problems) - 1
        message = first if not more else f"{first} (and {more} more; `clippings topic check FILE` lists them all)"
        raise TopicError(message, spec.problems)
    return topic


def article_pattern(pattern: str):
    """An `article_patterns` entry compiled by RE2, which matches in time linear in the URL's length.

    Python's re backtracks: `(a+)+$` takes exponential time on a long URL of a's, and archive
    listings hold URLs that anyone can make up. RE2 has no lookarounds or backreferences."""
    return re2.compile(pattern, options=_RE2_OPTIONS)


def slug(text: str) -> str:
    """A readable id: "Judith Godrèche" -> "judith-godreche"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


_BAD = object()  # what a part of the file that has a problem reads as, once the problem is recorded


class _Spec:
    """Validation helpers that know where in the file they are.

    A helper raises TopicError at the problem it finds; `attempt` records it and goes on with the
    next part, so that one run names every problem of the file."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        raise TopicError(f"{self.source}: {message}")

    def attempt(self, read, *args):
        """read(*args), or _BAD with its problem recorded."""
        try:
            return read(*args)
        except TopicError as error:
            self.problems.append(str(error))
            return _BAD

    def topic(self, raw: Any) -> Topic | None:
        data = self.mapping(raw, "the file")
        self.keys(data, TOPIC_KEYS, "the file")
        name = self.attempt(self.text, data.get("name"), "name")
        title = self.attempt(self.text, data["title"], "title") if "title" in data else name
        description = self.attempt(self.optional_text, data.get("description"), "description")
        window = self.attempt(self.window, data.get("window"))
        keywords = self.attempt(self.texts, data.get("keywords"), "keywords")
        people = self.items(data.get("people"), "people", self.person)
        outlets = self.items(data.get("outlets", []), "outlets", self.outlet, allow_empty=True)
        relevance = self.attempt(self.relevance, {} if data.get("relevance") is None else data["relevance"])
        if self.problems:
            return None
        return Topic(
            name=name,
            title=title,
            description=description or "",
            start=window[0],
            end=window[1],
            keywords=tuple(keywords),
            people=people,
            outlets=outlets,
            relevance=relevance,
        )

    def keys(self, data: dict, known: Sequence[str], where: str) -> None:
        """Record each key that is not one of `known` (a misspelt key would otherwise do nothing)."""
        for key in data:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(known)}"
            self.problems.append(f"{self.source}: {where} has an unknown key {_shown(key)} ({hint})")

    def items(self, value: Any, where: str, read, allow_empty: bool = False) -> tuple:
        """Each entry of a list read by `read(entry, index)`, ids checked for repeats."""
        entries = self.attempt(self.list, value, where, allow_empty)
        if entries is _BAD:
            return ()
        found = [self.attempt(read, entry, i) for i, entry in enumerate(entries)]
        found = tuple(item for item in found if item is not _BAD)
        self.attempt(self.unique, [item.id for item in found], where)
        return found

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(f"{where} must be a mapping of keys to values{_got(value)}")
        return value

    def list(self, value: Any, where: str, allow_empty: bool = False) -> list:
        if not isinstance(value, list):
            self.fail(f"{where} must be a {'' if allow_empty else 'non-empty '}list{_got(value)}")
        if not value and not allow_empty:
            self.fail(f"{where} must be a non-empty list")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where} must be a non-empty string{_got(value)}")
        return value.strip()

    def optional_text(self, value: Any, where: str) -> str | None:
        return None if value is None else self.text(value, where)

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
            return dt.date.fromisoformat(value if isinstance(value, str) else "")
        except ValueError:
            self.fail(f"{where} must be a date like 2017-10-01{_got(value)}")

    def window(self, value: Any) -> tuple[dt.date, dt.date]:
        window = self.mapping(value, "window")
        self.keys(window, WINDOW_KEYS, "window")
        start = self.attempt(self.date, window.get("start"), "window.start")
        end = self.attempt(self.date, window.get("end"), "window.end")
        if _BAD in (start, end):
            return _BAD
        if end < start:
            self.fail(f"window.end ({end}) is before window.start ({start})")
        return start, end

    def unique(self, ids: list[str], where: str) -> None:
        seen = [i for n, i in enumerate(ids) if i in ids[:n]]
        if seen:
            self.fail(f"{where}: id {seen[0]!r} is used twice")

    def identifier(self, value: Any, name: str, where: str) -> str:
        """The entry's id: its `id`, else its name, as a slug."""
        if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool)):
            self.fail(f"{where}.id must be a string{_got(value)}")
        if value is None and name is _BAD:
            return _BAD
        ident = slug(str(value if value is not None else name))
        if not ident:
            self.fail(
                f"{where}: {_shown(value if value is not None else name)} gives an empty id "
                "(it has no letters a-z or digits); add an id such as `id: judd`"
            )
        return ident

    def person(self, value: Any, index: int) -> Person:
        where = f"people[{index}]"
        data = self.mapping(value, where)
        self.keys(data, PERSON_KEYS, where)
        name = self.attempt(self.text, data.get("name"), f"{where}.name")
        role = self.attempt(self.role, data.get("role"), where, name)
        aliases = self.attempt(self.texts, data.get("aliases"), f"{where}.aliases", True)
        ident = self.attempt(self.identifier, data.get("id"), name, where)
        if _BAD in (name, role, aliases, ident):
            return _BAD
        return Person(id=ident, name=name, role=role, aliases=tuple(aliases))

    def role(self, role: Any, where: str, name: str) -> str:
        if role not in ROLES:
            whose = f" for {name!r}" if name is not _BAD else ""
            self.fail(f"{where}.role{whose} must be one of {', '.join(ROLES)}{_got(role)}")
        return role

    def outlet(self, value: Any, index: int) -> Outlet:
        where = f"outlets[{index}]"
        data = self.mapping(value, where)
        self.keys(data, OUTLET_KEYS, where)
        name = self.attempt(self.text, data.get("name"), f"{where}.name")
        values = {
            "name": name,
            "id": self.attempt(self.identifier, data.get("id"), name, where),
            "domains": self.attempt(self.domains, data.get("domains"), f"{where}.domains"),
            "country": self.attempt(self.optional_text, data.get("country"), f"{where}.country"),
            "language": self.attempt(self.optional_text, data.get("language"), f"{where}.language"),
            "homepage": self.attempt(self.url, data.get("homepage"), f"{where}.homepage", True),
            **{key: self.attempt(self.urls, data.get(key), f"{where}.{key}") for key in URL_LISTS},
            "article_patterns": self.attempt(self.patterns, data.get("article_patterns"), f"{where}.article_patterns"),
            "timezone": self.attempt(self.time_zone, data.get("timezone"), f"{where}.timezone", name),
        }
        if _BAD in values.values():
            return _BAD
        return Outlet(**values)

    def domains(self, value: Any, where: str) -> tuple[str, ...]:
        domains = self.texts(value, where)
        for i, domain in enumerate(domains):
            if not _DOMAIN.fullmatch(domain):
                self.fail(f"{where}[{i}] must be a host name like nytimes.com (or host:port), not {_shown(domain)}")
        return tuple(d.lower() for d in domains)

    def url(self, value: Any, where: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        url = self.text(value, where)
        if urlsplit(url).scheme not in ("http", "https"):
            self.fail(f"{where} must be an http(s) URL, not {_shown(url)}")
        return url

    def time_zone(self, value: Any, where: str, outlet: str) -> str | None:
        """An IANA time zone name that the tz database knows, or None when not given."""
        if value is None:
            return None
        try:
            if not isinstance(value, str) or not value.strip():
                raise ValueError
            ZoneInfo(value.strip())
        except (ValueError, OSError, ZoneInfoNotFoundError):  # a directory ("Europe") is an OSError
            self.fail(
                f"{where} for {outlet!r} must be an IANA time zone name such as Europe/Paris or America/New_York, not {value!r}"
            )
        return value.strip()

    def urls(self, value: Any, where: str) -> tuple[str, ...]:
        items = self.list(value, where, allow_empty=True) if value is not None else []
        return tuple(self.url(url, f"{where}[{i}]") for i, url in enumerate(items))

    def patterns(self, value: Any, where: str) -> tuple[str, ...]:
        patterns = self.texts(value, where, allow_empty=True)
        for i, pattern in enumerate(patterns):
            try:
                article_pattern(pattern)
            except re2.error as error:
                reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
                self.fail(
                    f"{where}[{i}] is not a regular expression RE2 accepts ({reason}); "
                    "article patterns run on RE2, which has no lookarounds or backreferences"
                )
        return tuple(patterns)

    def relevance(self, value: Any) -> Relevance:
        data = self.mapping(value, "relevance")
        self.keys(data, RELEVANCE_KEYS, "relevance")
        defaults = Relevance()
        numbers = {}
        for key in ("min_score", "title_weight", "body_weight"):
            number = data.get(key, getattr(defaults, key))
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                self.fail(f"relevance.{key} must be a whole number >= 0{_got(number)}")
            numbers[key] = number
        roles = data.get("counting_roles", list(defaults.counting_roles))
        for role in self.texts(roles, "relevance.counting_roles"):
            if role not in ROLES:
                self.fail(f"relevance.counting_roles: {role!r} is not one of {', '.join(ROLES)}")
        return Relevance(counting_roles=tuple(roles), **numbers)


# A host name (any script) with an optional port: no scheme, path or spaces.
_DOMAIN = re.compile(r"[^\s/:@?#]+(:\d{1,5})?")


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    """What a wrong value was, to end a message: ", not a list", " (it is missing or empty)"."""
    if value is None:
        return " (it is missing or empty)"
    if isinstance(value, bool):
        return f", not {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f", not the number {value}"
    if isinstance(value, str):
        return f", not the text {_shown(value)}"
    if isinstance(value, dt.date):
        return f", not the date {value}"
    return ", not " + {dict: "a mapping", list: "a list"}.get(type(value), f"a {type(value).__name__}")
