"""The bundled demo press site: fictional outlets that serve pages.yml on loopback, with its ground truth."""

from __future__ import annotations

import datetime as dt
import email.utils
import textwrap
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import jinja2
import yaml

PAGES_FILE = Path(__file__).with_name("pages.yml")
TEMPLATES_DIR = Path(__file__).with_name("templates")
KINDS = ("article", "index", "redirect", "missing", "pdf", "private")
# The crawl window of the default topic: the core months plus a margin for January 2018.
WINDOW_START, WINDOW_END = dt.date(2017, 10, 1), dt.date(2018, 1, 31)
FEED_FORMATS = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
SITEMAP_LAYOUTS = ("news", "urlset", "monthly")
COMMENTS_PER_PAGE = 3
RELATED_PER_PAGE = 4


class InvalidPages(ValueError):
    """pages.yml breaks one of the rules the demo site's ground truth depends on."""


@dataclass(frozen=True)
class DemoPage:
    """One entry of pages.yml: what a page shows, and the truth an archive of it should hold."""

    outlet: str
    path: str
    kind: str
    title: str | None
    published: str | None
    on_topic: bool
    copy_of: str | None
    in_window: bool
    authors: tuple[str, ...]
    redirect_to: str | None
    published_at: str | None = None  # ISO 8601 with the outlet's UTC offset; `published` is its date
    modified_at: str | None = None
    section: str | None = None
    language: str = "en"
    byline: str | None = None  # credit line shown instead of author names (wire copy)
    body: tuple[str, ...] = ()
    label: str | None = None  # visible heading of a page that is not an article
    seed: bool = False
    feed_query: str | None = None  # tracking parameters the feed adds to this page's link
    attachments: tuple[str, ...] = ()  # paths of PDF pages the article links to


@dataclass(frozen=True)
class DemoOutlet:
    """One fictional outlet: its identity, where its feed lives and how its sitemaps are laid out."""

    id: str
    name: str
    country: str
    language: str
    feed_path: str
    feed_format: str
    sitemap_layout: str
    sections: dict[str, str]
    comments: dict[str, list[dict[str, str]]]


def load_pages(source: Path = PAGES_FILE) -> list[DemoPage]:
    """Parse and validate every page of the demo site."""
    document = _read_document(source)
    outlets = {outlet.id: outlet for outlet in _parse_outlets(document)}
    pages = [_parse_page(entry, outlets) for entry in document["pages"]]
    _check_site(pages)
    return pages


def load_outlets(source: Path = PAGES_FILE) -> list[DemoOutlet]:
    """Parse the outlets of the demo site, in the order pages.yml lists them."""
    return _parse_outlets(_read_document(source))


def _read_document(source: Path) -> dict[str, Any]:
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not {"outlets", "pages"} <= document.keys():
        raise InvalidPages(f"{source}: expected top-level 'outlets' and 'pages' lists.")
    return document


def _parse_outlets(document: dict[str, Any]) -> list[DemoOutlet]:
    outlets = []
    for entry in document["outlets"]:
        feed = entry["feed"]
        if feed["format"] not in FEED_FORMATS or entry["sitemap"] not in SITEMAP_LAYOUTS:
            raise InvalidPages(f"outlet {entry['id']}: unknown feed format or sitemap layout.")
        outlets.append(
            DemoOutlet(
                id=entry["id"],
                name=entry["name"],
                country=entry["country"],
                language=entry["language"],
                feed_path=feed["path"],
                feed_format=feed["format"],
                sitemap_layout=entry["sitemap"],
                sections=dict(entry["sections"]),
                comments=entry.get("comments", {}),
            )
        )
    return outlets


def _parse_page(entry: dict[str, Any], outlets: dict[str, DemoOutlet]) -> DemoPage:
    where = f"{entry.get('outlet')}:{entry.get('path')}"
    outlet = outlets.get(entry.get("outlet", ""))
    if outlet is None or not str(entry.get("path", "")).startswith("/"):
        raise InvalidPages(f"pages.yml: {where}: needs a known outlet and a path starting with '/'.")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InvalidPages(f"pages.yml: {where}: kind must be one of {', '.join(KINDS)}.")
    published_at = _timestamp(entry.get("published_at"), where)
    published = published_at[:10] if published_at else None
    page = DemoPage(
        outlet=outlet.id,
        path=entry["path"],
        kind=kind,
        title=entry.get("title"),
        published=published,
        on_topic=bool(entry.get("on_topic", False)),
        copy_of=entry.get("copy_of"),
        in_window=_in_window(published),
        authors=tuple(entry.get("authors", ())),
        redirect_to=entry.get("redirect_to"),
        published_at=published_at,
        modified_at=_timestamp(entry.get("modified_at"), where),
        section=entry.get("section"),
        language=entry.get("language", outlet.language),
        byline=entry.get("byline"),
        body=tuple(entry.get("body", ())),
        label=entry.get("label"),
        seed=bool(entry.get("seed", False)),
        feed_query=entry.get("feed_query"),
        attachments=tuple(entry.get("attachments", ())),
    )
    _check_page(page, outlet, where)
    return page


def _timestamp(value: Any, where: str) -> str | None:
    """Accept only quoted ISO 8601 timestamps with a UTC offset (YAML would turn bare ones into datetimes)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPages(f"pages.yml: {where}: quote timestamps, e.g. '2017-10-16T22:45:00-04:00'.")
    if dt.datetime.fromisoformat(value).utcoffset() is None:
        raise InvalidPages(f"pages.yml: {where}: timestamp {value} needs a UTC offset.")
    return value


def _in_window(published: str | None) -> bool:
    return published is None or WINDOW_START <= dt.date.fromisoformat(published) <= WINDOW_END


def _check_page(page: DemoPage, outlet: DemoOutlet, where: str) -> None:
    if page.kind == "article":
        if not (page.title and page.body and page.section in outlet.sections):
            raise InvalidPages(f"pages.yml: {where}: an article needs a title, a body and a known section.")
    elif page.title or page.published_at or page.on_topic or page.copy_of:
        raise InvalidPages(f"pages.yml: {where}: only articles have a title, a date, a topic or an original.")
    if page.kind == "index" and page.section is not None and page.section not in outlet.sections:
        raise InvalidPages(f"pages.yml: {where}: unknown section {page.section}.")
    if (page.kind == "redirect") != (page.redirect_to is not None):
        raise InvalidPages(f"pages.yml: {where}: redirect_to belongs to redirects, and every redirect needs one.")
    if page.kind == "pdf" and not page.path.endswith(".pdf"):
        raise InvalidPages(f"pages.yml: {where}: a pdf page's path must end in .pdf.")


def _check_site(pages: list[DemoPage]) -> None:
    """Check what spans pages: unique paths, and that redirects, copies and attachments point at real pages."""
    by_key: dict[str, DemoPage] = {}
    for page in pages:
        key = f"{page.outlet}:{page.path}"
        if key in by_key:
            raise InvalidPages(f"pages.yml: {key}: the path appears twice.")
        by_key[key] = page
    for page in pages:
        targets = [(page.copy_of, "article")] if page.copy_of else []
        if page.redirect_to:
            targets.append((f"{page.outlet}:{page.redirect_to}", "article"))
        targets += [(f"{page.outlet}:{path}", "pdf") for path in page.attachments]
        for key, kind in targets:
            if getattr(by_key.get(key), "kind", None) != kind:
                raise InvalidPages(f"pages.yml: {page.outlet}:{page.path}: {key} is not a {kind} of the site.")


# Rendering ------------------------------------------------------------------------------------

EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
FR_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def display_date(value: str, style: str) -> str:
    """A timestamp the way each outlet prints it for readers, in the outlet's local time."""
    moment = dt.datetime.fromisoformat(value)
    if style == "us":
        hour, half = moment.hour % 12 or 12, "a.m." if moment.hour < 12 else "p.m."
        return f"{EN_MONTHS[moment.month - 1]} {moment.day}, {moment.year}, {hour}:{moment.minute:02d} {half}"
    if style == "us-short":
        month = EN_MONTHS[moment.month - 1]
        month = month if len(month) <= 5 else f"{month[:3]}."
        return f"{month} {moment.day}, {moment.year}"
    if style == "gb":
        return (
            f"{EN_DAYS[moment.weekday()][:3]} {moment.day} {EN_MONTHS[moment.month - 1][:3]} "
            f"{moment.year} {moment.hour:02d}.{moment.minute:02d}"
        )
    if style == "fr":
        return f"{moment.day} {FR_MONTHS[moment.month - 1]} {moment.year} à {moment.hour}h{moment.minute:02d}"
    raise ValueError(f"unknown date style {style!r}")


def rfc822(value: str) -> str:
    """RSS 2.0 pubDate: RFC 822 with the original UTC offset kept."""
    return email.utils.format_datetime(dt.datetime.fromisoformat(value))


def join_names(names: Sequence[str], conjunction: str = "and") -> str:
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def _template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(display_date=display_date, rfc822=rfc822, join_names=join_names)
    return env


def _published_moment(page: DemoPage) -> dt.datetime:
    return dt.datetime.fromisoformat(page.published_at or "")


class OutletView:
    """What an outlet's templates need to know about its own pages, with absolute URLs."""

    def __init__(self, outlet: DemoOutlet, pages: list[DemoPage], base_url: str):
        self.outlet = outlet
        self.pages = [page for page in pages if page.outlet == outlet.id]
        self.base_url = base_url

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def articles(self) -> list[DemoPage]:
        return [page for page in self.pages if page.kind == "article"]

    def dated(self) -> list[DemoPage]:
        """Articles with a date, newest first: what sitemaps list."""
        dated = [page for page in self.articles() if page.published_at]
        return sorted(dated, key=_published_moment, reverse=True)

    def listed(self, section: str | None = None) -> list[DemoPage]:
        """What feeds, front pages and section pages show: dated articles inside the window."""
        return [page for page in self.dated() if page.in_window and section in (None, page.section)]

    def related(self, page: DemoPage, limit: int = RELATED_PER_PAGE) -> list[DemoPage]:
        """Nearest stories in time on the same side of the topic, so off-topic pages stay free of topic words."""
        candidates = [other for other in self.listed() if other.on_topic == page.on_topic and other.path != page.path]
        if page.published_at:
            candidates.sort(key=lambda other: abs(_published_moment(other) - _published_moment(page)))
        return candidates[:limit]

    def section_path(self, section: str | None) -> str | None:
        for page in self.pages:
            if page.kind == "index" and page.section == section and section is not None:
                return page.path
        return None

    def navigation(self) -> list[tuple[str, str]]:
        return [(page.path, self.outlet.sections[page.section]) for page in self.pages if page.kind == "index" and page.section]

    def comments(self, page: DemoPage) -> list[dict[str, str]]:
        pool = self.outlet.comments.get("on_topic" if page.on_topic else "off_topic", [])
        if not pool:
            return []
        start = self.articles().index(page)
        return [pool[(start + offset) % len(pool)] for offset in range(min(COMMENTS_PER_PAGE, len(pool)))]

    def lastmod(self, page: DemoPage) -> str:
        return page.modified_at or page.published_at or ""

    def seeds(self) -> list[str]:
        return [self.url("/")] + [self.url(page.path) for page in self.pages if page.seed]


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _utf8(text: str, content_type: str, status: int = 200) -> Response:
    return Response(status, f"{content_type}; charset=utf-8", text.encode("utf-8"))


def render_outlet(env: jinja2.Environment, view: OutletView) -> dict[str, Response]:
    """Every route of one outlet, rendered once: pages, robots.txt, feed and sitemaps."""
    routes = {page.path: _render_page(env, view, page) for page in view.pages if page.kind != "missing"}
    routes["/robots.txt"] = _utf8(env.get_template("common/robots.txt").render(site=view), "text/plain")
    feed = env.get_template(f"common/{view.outlet.feed_format}.xml").render(site=view)
    routes[view.outlet.feed_path] = _utf8(feed, FEED_FORMATS[view.outlet.feed_format])
    routes.update(_render_sitemaps(env, view))
    return routes


def render_not_found(env: jinja2.Environment, view: OutletView) -> Response:
    html = env.get_template(f"{view.outlet.id}/page.html").render(site=view, page=None, status=404)
    return _utf8(html, "text/html", status=404)


def _render_page(env: jinja2.Environment, view: OutletView, page: DemoPage) -> Response:
    if page.kind == "redirect":
        location = view.url(page.redirect_to or "/")
        html = env.get_template("common/redirect.html").render(location=location)
        return Response(301, "text/html; charset=utf-8", html.encode("utf-8"), (("Location", location),))
    if page.kind == "pdf":
        return Response(200, "application/pdf", pdf_document(page.label or "", page.body))
    template = {"article": "article.html", "index": "index.html"}.get(page.kind, "page.html")
    html = env.get_template(f"{view.outlet.id}/{template}").render(site=view, page=page, status=200)
    return _utf8(html, "text/html")


def _render_sitemaps(env: jinja2.Environment, view: OutletView) -> dict[str, Response]:
    layout = view.outlet.sitemap_layout
    if layout != "monthly":
        xml = env.get_template(f"common/{layout}.xml").render(site=view, pages=view.dated())
        return {"/sitemap.xml": _utf8(xml, "application/xml")}
    months: dict[str, list[DemoPage]] = {}
    for page in view.dated():
        months.setdefault(page.published_at[:7], []).append(page)  # type: ignore[index]
    routes = {
        f"/sitemap-{month}.xml": _utf8(env.get_template("common/urlset.xml").render(site=view, pages=pages), "application/xml")
        for month, pages in months.items()
    }
    children = [(path, max(view.lastmod(page) for page in pages)) for path, pages in zip(routes, months.values())]
    index = env.get_template("common/sitemap_index.xml").render(site=view, children=children)
    routes["/sitemap.xml"] = _utf8(index, "application/xml")
    return routes


def pdf_document(title: str, lines: Iterable[str]) -> bytes:
    """A small, valid one-page PDF (Helvetica text) with a correct cross-reference table."""
    wrapped = [part for line in lines for part in textwrap.wrap(line, 88) + [""]]
    operations = ["BT", "/F1 15 Tf", "72 740 Td", f"({_pdf_text(title)}) Tj", "/F1 10 Tf", "0 -26 Td"]
    for line in wrapped:
        operations += [f"({_pdf_text(line)}) Tj", "0 -14 Td"]
    operations.append("ET")
    content = "\n".join(operations).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title (%s) /Producer (clippings demo site) >>" % _pdf_text(title).encode("cp1252"),
    ]
    return _pdf_file(objects)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf_file(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


# Serving --------------------------------------------------------------------------------------


class _OutletServer(ThreadingHTTPServer):
    """One outlet on its own port, answering from routes rendered before it starts."""

    daemon_threads = True

    def __init__(self, host: str, port: int = 0):
        super().__init__((host, port), _OutletHandler)
        self.routes: dict[str, Response] = {}
        self.not_found = Response(404, "text/plain; charset=utf-8", b"Not found\n")

    @property
    def netloc(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"


class _OutletHandler(BaseHTTPRequestHandler):
    server: _OutletServer

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        # Query strings (feed tracking parameters) do not change which page is served.
        response = self.server.routes.get(urlsplit(self.path).path, self.server.not_found)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a crawl's output should show the crawler, not the site."""


class DemoSite:
    """The demo press site: one HTTP server per outlet on loopback, each on a port of its own."""

    def __init__(self, host: str = "127.0.0.1", base_port: int = 0):
        """base_port 0 takes free ports; otherwise outlet i listens on base_port + i, so
        the archived URLs stay the same from one demo run to the next."""
        self.host = host
        self.base_port = base_port
        self.pages = load_pages()
        self.outlets: list[dict[str, Any]] = []
        self._servers: dict[str, _OutletServer] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> DemoSite:
        if self._servers:
            raise RuntimeError("The demo site is already running.")
        env = _template_environment()
        try:
            for index, outlet in enumerate(load_outlets()):
                port = self.base_port + index if self.base_port else 0
                self._servers[outlet.id] = self._bind_outlet(env, outlet, port)
        except BaseException:
            # Nothing serves yet, so closing the sockets is enough (shutdown() would wait forever).
            for server in self._servers.values():
                server.server_close()
            self._servers, self.outlets = {}, []
            raise
        for outlet_id, server in self._servers.items():
            thread = threading.Thread(target=server.serve_forever, name=f"demo-{outlet_id}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _bind_outlet(self, env: jinja2.Environment, outlet: DemoOutlet, port: int) -> _OutletServer:
        """Bind a port first: every absolute URL the outlet renders contains it."""
        server = _OutletServer(self.host, port)
        view = OutletView(outlet, self.pages, f"http://{server.netloc}")
        server.routes = render_outlet(env, view)
        server.not_found = render_not_found(env, view)
        self.outlets.append(_topic_outlet(view, server.netloc))
        return server

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers, self._threads, self.outlets = {}, [], []

    def url(self, page: DemoPage) -> str:
        server = self._servers.get(page.outlet)
        if server is None:
            raise RuntimeError("The demo site is not running: call DemoSite.start() first.")
        return f"http://{server.netloc}{page.path}"

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _topic_outlet(view: OutletView, netloc: str) -> dict[str, Any]:
    """The outlet as a topic file lists it, pointing at the running server."""
    outlet = view.outlet
    return {
        "id": outlet.id,
        "name": outlet.name,
        "country": outlet.country,
        "language": outlet.language,
        "domains": [netloc],
        "homepage": view.url("/"),
        "feeds": [view.url(outlet.feed_path)],
        "sitemaps": [view.url("/sitemap.xml")],
        "seeds": view.seeds(),
    }
