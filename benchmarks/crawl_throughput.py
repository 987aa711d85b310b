"""Crawl throughput and memory: a real `scrapy crawl` of a local mirror of the extraction
benchmark's pages, with extraction in worker processes and in-process, beside trafilatura alone
on the same pages, in one run.

    python -m benchmarks.crawl_throughput [DATA_DIR] [--pages 2000] [--small 500] [--outlets 8] [--workers-only]

The mirror serves each of the 91 pages (DATA_DIR, default ../shared/bench/extraction) under many
URLs: copy K of a page is at http://127.0.0.1X:PORT/cK/PAGE_ID/ORIGINAL_PATH, spread over
--outlets loopback addresses (127.0.0.11, .12, ...), each an outlet of the benchmark's topic. Each
copy carries "Mirror copy K." at the start of the page's first long paragraph, so that most
copies are distinct articles rather than linked copies (where that paragraph is not part of the
extracted text, the copies' texts are identical and they are stored as copies). The topic's
keywords are common words of the pages' languages and its window spans 1990-2030, so that
relevance passes nearly every article page and the whole store path runs.

Prints pages per second of each crawl (pages fetched / Scrapy's elapsed time) against
trafilatura.extract on the same pages in this process, the archive's counts, the peak memory of
the crawl's process tree (Scrapy plus the extraction workers: summed RSS, and summed PSS, which
counts pages the processes share once) at two sizes, and the machine's load average. Then the CPU
time a fetched page costs in each part of the crawl's process tree (the crawl's process, the
fork server, the extraction workers; read from /proc every 0.2 s, a process's last reading
standing for it once it has exited) against trafilatura.extract's CPU time a page in this
process: on N cores a crawl can go at most N x trafilatura's CPU / the crawl's CPU times
trafilatura's speed. --workers-only runs the crawl with the default workers alone.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
import yaml

from benchmarks.extraction import DEFAULT_DATA, load_pages
from benchmarks.processes import cpu_seconds, descendants, process_tree

CHECKOUT = Path(__file__).resolve().parents[1]
FIRST_PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>\s*(?=[^<]{80})", re.IGNORECASE)
KEYWORDS = ["the", "and", "said", "de", "la", "le", "et", "der", "die", "und", "el", "y", "il", "di", "и", "в"]


# --- the mirror -----------------------------------------------------------------------------


@dataclass
class Mirror:
    """The benchmark pages and where copy K of each goes in the mirror's URLs."""

    pages: list[tuple[str, str, str, str]]  # (id, url, html, true body)

    def __post_init__(self):
        self.paths = {urlsplit(url).path or "/": page_id for page_id, url, _, _ in self.pages}
        self.html = {page_id: html for page_id, _, html, _ in self.pages}
        self.insert_at = {page_id: _paragraph_start(html) for page_id, _, html, _ in self.pages}

    def path(self, number: int) -> str:
        page_id, url, _, _ = self.pages[number % len(self.pages)]
        return f"/c{number // len(self.pages)}/{page_id}{urlsplit(url).path or '/'}"

    def body(self, path: str) -> bytes | None:
        """The page served at `path`, with its copy's sentence; None when there is none."""
        match = re.fullmatch(r"/c(\d+)/([0-9a-f]+)(/.*)", path)
        if not match or match[2] not in self.html:
            return None
        html, at = self.html[match[2]], self.insert_at[match[2]]
        if at is not None:
            html = f"{html[:at]}Mirror copy {match[1]}. {html[at:]}"
        return html.encode("utf-8")


def _paragraph_start(html: str) -> int | None:
    found = FIRST_PARAGRAPH.search(html)
    return found.end() if found else None


class MirrorServer:
    """The mirror's HTTP/1.1 servers (keep-alive, asyncio) in a process of their own, one per
    loopback address; its CPU time is reported apart from the crawl's."""

    def __init__(self, mirror: Mirror, hosts: list[str]):
        self.mirror, self.hosts = mirror, hosts
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(target=_serve, args=(mirror, hosts, child), daemon=True)
        self.process.start()
        self.ports: list[int] = parent.recv()

    def urls(self, count: int) -> list[str]:
        return [f"http://{self.netloc(n)}{self.mirror.path(n)}" for n in range(count)]

    def netloc(self, number: int) -> str:
        outlet = (number // len(self.mirror.pages)) % len(self.hosts)
        return f"{self.hosts[outlet]}:{self.ports[outlet]}"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


def _serve(mirror: Mirror, hosts: list[str], ready) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                path = head.split(b" ", 2)[1].decode("latin-1")
                body = mirror.body(urlsplit(path).path)
                status = b"200 OK" if body is not None else b"404 Not Found"
                body = body if body is not None else b"not found"
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % (status, len(body))
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(answer, host, 0, backlog=1024) for host in hosts]
        ready.send([server.sockets[0].getsockname()[1] for server in servers])
        await asyncio.Event().wait()

    asyncio.run(main())


def topic_file(server: MirrorServer, path: Path) -> None:
    outlets = [
        {
            "id": f"mirror-{n}",
            "name": f"Mirror outlet {n}",
            "country": "US",
            "language": "en",
            "domains": [f"{host}:{port}"],
            "homepage": f"http://{host}:{port}/",
            "feeds": [],
            "sitemaps": [],
            "seeds": [],
        }
        for n, (host, port) in enumerate(zip(server.hosts, server.ports))
    ]
    topic = {
        "name": "mirror",
        "title": "The crawl benchmark's mirror",
        "description": "Every page is on-topic.",
        "window": {"start": "1990-01-01", "end": "2030-12-31"},
        "relevance": {"min_score": 2, "title_weight": 3, "body_weight": 1, "counting_roles": ["accused"]},
        "keywords": KEYWORDS,
        "people": [{"name": "Harvey Weinstein", "role": "accused"}],
        "outlets": outlets,
    }
    path.write_text(yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- measuring ------------------------------------------------------------------------------


def tree_memory(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of the process tree, in kB."""
    rss = pss = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, value = line.split(":", 1) if ":" in line else ("", "")
                if name == "Rss":
                    rss += int(value.split()[0])
                elif name == "Pss":
                    pss += int(value.split()[0])
        except (OSError, ValueError):
            continue
    return rss, pss


class TreeSampler(threading.Thread):
    """Peak summed RSS and PSS of a process tree, and the CPU seconds each of its processes has
    used (the last reading before it exited), sampled every 0.2 s until stopped."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak_rss, self.peak_pss = root, 0, 0
        self.cpu: dict[int, tuple[int, float]] = {}  # pid: (depth below the crawl's process, CPU s)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            rss, pss = tree_memory(self.root)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            for pid, depth in {self.root: 0, **descendants(self.root)}.items():
                try:
                    self.cpu[pid] = (depth, cpu_seconds(pid))
                except OSError:
                    continue

    def cpu_at(self, depth: int) -> float:
        """CPU seconds of the tree's processes at this depth: 0 the crawl's process, 1 the fork
        server, 2 the extraction workers."""
        return sum(seconds for at, seconds in self.cpu.values() if at == depth)


@dataclass
class CrawlResult:
    workers: str
    pages: int
    fetched: int
    elapsed: float
    wall: float
    peak_rss_mb: float
    peak_pss_mb: float
    counts: dict[str, int]
    server_cpu: float
    load: tuple[float, float]
    cpu: tuple[float, float, float]  # CPU seconds: the crawl's process, the fork server, the workers

    @property
    def pages_per_second(self) -> float:
        return self.fetched / self.elapsed


def crawl(server: MirrorServer, count: int, workers: str, where: Path, concurrency: int) -> CrawlResult:
    """A real `scrapy crawl seeds` of the first `count` mirror URLs into a fresh archive."""
    where.mkdir(parents=True)
    urls, topic = where / "urls.txt", where / "topic.yml"
    urls.write_text("\n".join(server.urls(count)) + "\n")
    topic_file(server, topic)
    log = where / "crawl.log"
    settings = {
        "ARCHIVE_PATH": where / "archive.db",
        "TOPIC_PATH": topic,
        "LOG_FILE": log,
        "LOG_LEVEL": "INFO",
        "AUTOTHROTTLE_ENABLED": 0,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "MAX_PAGES_PER_DOMAIN": 0,
        "MEMUSAGE_ENABLED": 0,
    }
    if workers != "default":
        settings["EXTRACTION_WORKERS"] = workers
    command = [sys.executable, "-m", "scrapy", "crawl", "seeds", "-a", f"urls={urls}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    load_before, server_before, started = os.getloadavg()[0], server.cpu_seconds(), time.perf_counter()
    process = subprocess.Popen(command, cwd=CHECKOUT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    sampler.stopped.set()
    sampler.join()
    wall = time.perf_counter() - started
    if process.returncode:
        said = stderr.decode() + (log.read_text()[-3000:] if log.exists() else "")
        raise SystemExit(f"the crawl failed (exit {process.returncode}): {said[-3000:]}")
    stats = _stats(log.read_text())
    return CrawlResult(
        workers,
        count,
        stats["response_received_count"] - stats.get("robotstxt/response_count", 0),
        stats["elapsed_time_seconds"],
        wall,
        sampler.peak_rss / 1024,
        sampler.peak_pss / 1024,
        archive_counts(where / "archive.db"),
        server.cpu_seconds() - server_before,
        (load_before, os.getloadavg()[0]),
        (sampler.cpu_at(0), sampler.cpu_at(1), sampler.cpu_at(2)),
    )


def _stats(log: str) -> dict[str, float]:
    found = re.findall(r"'([\w/]+)': (\d+(?:\.\d+)?)[,}]", log.rsplit("Dumping Scrapy stats", 1)[-1])
    return {name: float(value) if "." in value else int(value) for name, value in found}


def archive_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
            for table in ("captures", "articles", "copies", "rejects", "fetch_failures")
        }
        counts.update(dict(conn.execute("SELECT stage, count(*) FROM rejects GROUP BY stage").fetchall()))
        return counts
    finally:
        conn.close()


def trafilatura_alone(mirror: Mirror, urls: list[str]) -> tuple[float, float]:
    """Pages per second of trafilatura.extract on the mirror's pages, one process, as
    benchmarks/extraction.py calls it (include_comments=False), and its CPU seconds a page;
    decoding not timed."""
    pages = [(url, mirror.body(urlsplit(url).path).decode("utf-8")) for url in urls]
    trafilatura.extract(pages[0][1], url=pages[0][0], include_comments=False)  # warm-up
    started, cpu_started = time.perf_counter(), time.process_time()
    for url, html in pages:
        trafilatura.extract(html, url=url, include_comments=False)
    return len(pages) / (time.perf_counter() - started), (time.process_time() - cpu_started) / len(pages)


# --- the run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="extraction benchmark folder")
    parser.add_argument("--pages", type=int, default=2000, help="mirror pages crawled (default 2000)")
    parser.add_argument("--small", type=int, default=500, help="the smaller crawl, for memory (default 500)")
    parser.add_argument("--outlets", type=int, default=8, help="loopback hosts serving the mirror (default 8)")
    parser.add_argument("--concurrency", type=int, default=32, help="CONCURRENT_REQUESTS (and per domain)")
    parser.add_argument(
        "--workers-only",
        action="store_true",
        help="only the crawl with the default workers (no in-process crawl, no smaller crawl)",
    )
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        parser.error(f"no ground-truth.json in {args.data}: give the benchmark folder as DATA")
    mirror = Mirror(load_pages(args.data))
    server = MirrorServer(mirror, [f"127.0.0.{11 + n}" for n in range(args.outlets)])
    print(
        f"{len(mirror.pages)} pages from {args.data}, mirrored under {args.pages} URLs on {args.outlets} hosts; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory() as scratch:
            baseline = trafilatura_alone(mirror, server.urls(args.pages))
            runs = ["default"] if args.workers_only else ["default", "0"]
            crawls = [
                crawl(server, args.pages, workers, Path(scratch, f"{workers}-{args.pages}"), args.concurrency) for workers in runs
            ]
            if not args.workers_only:
                crawls.append(crawl(server, args.small, "default", Path(scratch, f"default-{args.small}"), args.concurrency))
            baseline_again = trafilatura_alone(mirror, server.urls(args.pages))
    finally:
        server.stop()
    print(report(crawls, (baseline, baseline_again)))
    print()
    print(cpu_report(crawls, (baseline[1] + baseline_again[1]) / 2))


def report(crawls: list[CrawlResult], runs: tuple[tuple[float, float], tuple[float, float]]) -> str:
    baseline = (runs[0][0] + runs[1][0]) / 2
    lines = [
        "| run | pages | pages/s | vs trafilatura alone | wall s | peak RSS (tree) MB | peak PSS (tree) MB | load before -> after | mirror server CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| trafilatura.extract alone, one process | {crawls[0].pages} | {baseline:.1f} | 1.00x | - | - | - | - | - |",
    ]
    for run in crawls:
        lines.append(
            f"| {_run_name(run)} | {run.fetched} | {run.pages_per_second:.1f} | {run.pages_per_second / baseline:.2f}x "
            f"| {run.wall:.1f} | {run.peak_rss_mb:.0f} | {run.peak_pss_mb:.0f} | {run.load[0]:.2f} -> {run.load[1]:.2f} "
            f"| {run.server_cpu:.1f} |"
        )
    lines.append(f"\ntrafilatura alone before and after the crawls: {runs[0][0]:.1f} and {runs[1][0]:.1f} pages/s (mean above)")
    big, small = crawls[0], crawls[-1]
    if big is not small:
        lines.append(
            f"peak PSS at {big.pages} pages / at {small.pages} pages: {big.peak_pss_mb / small.peak_pss_mb:.2f}"
            f" (RSS {big.peak_rss_mb / small.peak_rss_mb:.2f})"
        )
    for run in crawls:
        lines.append(f"archive, workers {run.workers}, {run.pages} pages: {run.counts}")
    return "\n".join(lines)


def cpu_report(crawls: list[CrawlResult], baseline_cpu: float) -> str:
    """CPU milliseconds a fetched page, by process, against trafilatura.extract's in one process.
    On N cores a crawl can reach at most N x (trafilatura's CPU / the crawl's CPU) times its speed."""
    lines = [
        "| run | crawl's process ms/page | fork server ms/page | workers ms/page | all ms/page | all vs trafilatura's CPU |",
        "|---|---|---|---|---|---|",
        f"| trafilatura.extract alone, one process | - | - | - | {baseline_cpu * 1000:.1f} | 1.00x |",
    ]
    for run in crawls:
        per_page = [seconds * 1000 / run.fetched for seconds in run.cpu]
        lines.append(
            f"| {_run_name(run)}, {run.fetched} pages | {per_page[0]:.1f} | {per_page[1]:.1f} | {per_page[2]:.1f} "
            f"| {sum(per_page):.1f} | {sum(per_page) / (baseline_cpu * 1000):.2f}x |"
        )
    return "\n".join(lines)


def _run_name(run: CrawlResult) -> str:
    return (
        f"scrapy crawl, EXTRACTION_WORKERS={'default (' + str(os.cpu_count()) + ')' if run.workers == 'default' else run.workers}"
    )


if __name__ == "__main__":
    main()
