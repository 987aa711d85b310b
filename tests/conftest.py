"""Shared fixtures: the demo archive, built once per session through the real CLI; loopback sites."""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from crawlers.addons import project_settings
from pipelines.core.thresholds import Thresholds

from .sites import Site

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The research thresholds as crawlers/settings.py sets them, for tests that call the pipelines' functions.
THRESHOLDS = Thresholds.from_settings(project_settings())


# The settings a crawl of a loopback site needs: the fetch guard lets it reach 127.0.0.1, and no
# politeness delay (the site is the test's own).
LOOPBACK = ["-s", "ALLOWED_PRIVATE_NETWORKS=127.0.0.1/32", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def run_clippings(*args: str, cwd: Path = PROJECT_ROOT, timeout: int = 600):
    """Run the real `clippings` command line in a subprocess; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "clippings", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def rows(db, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows a query gives on an archive file, on a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# The crawl's own environment: scrapy.cfg in the checkout picks the settings module.
SCRAPY_ENV = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}


def scrapy_command(spider, tmp_path, topic_text, *args):
    """`scrapy crawl` exactly as a Scrapy user runs it from the checkout (scrapy.cfg); the
    test sites are on loopback, which the fetch guard must be told to allow."""
    topic = tmp_path / "topic.yml"
    topic.write_text(topic_text)
    db, log = tmp_path / "archive.db", tmp_path / "crawl.log"
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        spider,
        "-s",
        f"ARCHIVE_PATH={db}",
        "-s",
        f"TOPIC_PATH={topic}",
        "-s",
        f"LOG_FILE={log}",
        *LOOPBACK,
        *args,
    ]
    return command, db, log


def scrapy_crawl(spider, tmp_path, topic_text, *args):
    """Run the crawl to its end; the archive's path and the log's text."""
    command, db, log = scrapy_command(spider, tmp_path, topic_text, *args)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    text = log.read_text()
    assert " ERROR: " not in text and "Traceback" not in text, text[-3000:]
    return db, text


def free_port_block(size: int = 4) -> int:
    """A first port such that it and the next size-1 ports are free on loopback. Taken below the
    kernel's ephemeral range, where no other test's port-0 server or outgoing connection can be
    given one of them between this check and the bind (seen: a demo site's port taken so)."""
    first_ephemeral = _ephemeral_ports()[0]
    for _ in range(100):
        base = random.randrange(10000, first_ephemeral - size)
        try:
            sockets = [socket.create_server(("127.0.0.1", base + i)) for i in range(size)]
        except OSError:
            continue
        for sock in sockets:
            sock.close()
        return base
    raise RuntimeError("no block of free ports on 127.0.0.1")


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


@pytest.fixture(scope="session")
def demo_site_port() -> int:
    """The demo site's first port for this test session (re-runs must reuse it)."""
    return free_port_block()


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory, demo_site_port: int) -> Path:
    """An archive built by `clippings demo --no-serve`: spiders, pipelines and all."""
    db = tmp_path_factory.mktemp("demo") / "archive.db"
    result = run_clippings("demo", "--no-serve", "--db", str(db), "--site-port", str(demo_site_port))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture
def foreign_db(tmp_path: Path) -> Path:
    """A SQLite database that is not a clippings archive (someone's own data)."""
    import sqlite3

    path = tmp_path / "survey.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE answers (answer)")
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def serve_site() -> Iterator[Callable[..., Site]]:
    """Starts loopback sites for the test: serve_site(routes, fallback=...) is a running
    `tests.sites.Site`, stopped when the test ends."""
    with ExitStack() as running:
        yield lambda *args, **kwargs: running.enter_context(Site(*args, **kwargs))
