"""Readers while writing: `clippings serve` (Datasette) answers while a real crawl writes the same archive."""

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from pipelines.store.archive import Archive

from .conftest import PROJECT_ROOT, SCRAPY_ENV, free_port_block, scrapy_command
from .sites import DAY, Site, article_html, html, page, sitemap

# A crawl in a subprocess read by Datasette while it writes: the full suite only.
pytestmark = pytest.mark.slow

ARTICLES = 30
READS = [
    "/archive.json?sql=select+count(*)+as+n+from+articles&_shape=array",
    "/archive/articles.json?_size=5&_sort_desc=id",
    "/archive/articles?_search=Weinstein",
    "/archive/captures.json?_size=5",
    "/archive/rejects.csv",
    "/archive/articles_fts.json?_size=5",
]


def get(url: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def wait_until_serving(base: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError("datasette exited")
        try:
            if get(f"{base}/-/versions.json", timeout=1)[0] == 200:
                return
        except OSError:
            threading.Event().wait(0.1)
    raise RuntimeError("datasette did not start")


class Reader(threading.Thread):
    """Reads Datasette pages in a loop until told to stop; each read lets the site serve one page."""

    def __init__(self, base: str, gate: threading.BoundedSemaphore):
        super().__init__(daemon=True)
        self.base, self.gate = base, gate
        self.answers: list[tuple[str, int, str]] = []
        self.counts: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        """Rounds of reads; the round that starts after stop is set sees the finished archive."""
        while True:
            stopping = self.stop.is_set()
            self.read_round()
            if stopping:
                return

    def read_round(self) -> None:
        for path in READS:
            status, body = get(self.base + path)
            self.answers.append((path, status, body))
            if path == READS[0] and status == 200:
                self.counts.append(json.loads(body)[0]["n"])
        try:
            self.gate.release()
        except ValueError:
            pass  # the site has not taken the last token yet


@pytest.fixture(scope="module")
def served_crawl(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("readers")
    gate = threading.BoundedSemaphore(1)

    def gated(answer):
        def route(handler, times):
            gate.acquire(timeout=30)  # one page per round of reads: the reads interleave the writes
            return answer

        return route

    routes = {f"/{DAY}/story-{n}/": gated(html(article_html(f"reader {n}"))) for n in range(ARTICLES)}
    with Site(routes) as site:
        routes["/sitemap.xml"] = page(sitemap([site.url(path) for path in list(routes)]))
        command, db, log = scrapy_command("sitemaps", tmp_path, site.topic())
        Archive(db).close()  # the archive exists (schema and all) before Datasette opens it
        port = free_port_block(1)
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "clippings", "serve", "--db", str(db), "--port", str(port)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until_serving(base, server)
            reader = Reader(base, gate)
            reader.start()
            crawl = subprocess.run(command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=300)
            reader.stop.set()
            reader.join()
        finally:
            server.terminate()
            server_errors = server.communicate(timeout=30)[1]
    yield crawl, log.read_text(), reader, server_errors


def test_readers_never_get_an_error_while_the_crawl_writes(served_crawl):
    crawl, log, reader, server_errors = served_crawl
    failed = [(path, status, body[:300]) for path, status, body in reader.answers if status != 200]
    assert failed == []
    assert "database is locked" not in server_errors


def test_crawl_never_meets_a_locked_database_while_read(served_crawl):
    crawl, log, reader, server_errors = served_crawl
    assert crawl.returncode == 0
    assert "database is locked" not in log and " ERROR: " not in log
    assert f"'clippings/articles_added': {ARTICLES}" in log


def test_readers_saw_the_archive_grow_during_the_crawl(served_crawl):
    crawl, log, reader, server_errors = served_crawl
    assert any(0 < n < ARTICLES for n in reader.counts), reader.counts
    assert reader.counts[-1] == ARTICLES
