"""Storage benchmark: archive bytes per capture against the same captures as a gzipped WARC, in one run.

    python -m benchmarks.storage [DATA_DIR] [--outlets 24] [--pages-per-outlet 90] [--profile]

DATA_DIR is the extraction benchmark (default ../shared/bench/extraction beside the checkout);
its pages become outlets of many pages each (benchmarks/outlet_corpus.py). The same pages are
written as a WARC with warcio (per-record gzip, as crawlers write WARCs), into an archive with
plain zstd (clippings before dictionaries), and into an archive with per-outlet dictionaries
the way a crawl fills it (the first COMPRESSION_DICTIONARY_SAMPLES bodies of an outlet plain,
then its dictionary trained and used) followed by `clippings compact`. Archive figures are
the file's bytes after VACUUM: bodies, dictionaries, capture rows (URL, headers) and SQLite's
own pages. Compression and decompression are timed per body, the methods taking turns.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import os
import platform
import pstats
import sqlite3
import tempfile
import time
import zlib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from benchmarks.outlet_corpus import GeneratedPage, build_corpus
from pipelines.core.items import FetchedPage
from pipelines.store.archive import Archive
from pipelines.store.compaction import compact
from pipelines.store.compression import DICTIONARY_SAMPLES, DICTIONARY_SIZE, LEVEL, DictionaryPolicy, train

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = CHECKOUT.parent / "shared" / "bench" / "extraction"
HEADERS = {"content-type": ["text/html; charset=utf-8"], "server": ["nginx"], "cache-control": ["max-age=60"]}
FETCHED_AT = "2026-11-24T00:00:00+00:00"
SWEEP_SIZES = (64 * 1024, 128 * 1024, 192 * 1024, 256 * 1024, 384 * 1024)


def interleaved(corpus: dict[str, list[GeneratedPage]]) -> list[GeneratedPage]:
    """The pages in crawl order: the outlets' pages mixed, each outlet's in its own order."""
    rounds = max(len(pages) for pages in corpus.values())
    return [pages[n] for n in range(rounds) for pages in corpus.values() if n < len(pages)]


def write_warc(pages: list[GeneratedPage], path: Path) -> int:
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for page in pages:
            http_headers = StatusAndHeaders("200 OK", [(k.title(), v[0]) for k, v in HEADERS.items()], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": FETCHED_AT},
            )
            writer.write_record(record)
    return path.stat().st_size


def build_archive(pages: list[GeneratedPage], db: Path, policy: DictionaryPolicy, compacted: bool) -> Archive:
    archive = Archive(db, dictionaries=policy)
    archive.db["outlets"].insert_all([{"id": o, "name": o} for o in sorted({p.outlet for p in pages})])
    archive.db["crawl_runs"].insert(
        {
            "id": "bench",
            "spider": "seeds",
            "topic": "bench",
            "topic_sha256": "0",
            "started_at": FETCHED_AT,
            "user_agent": "bench",
            "robots_obey": 1,
            "clippings_version": "0",
        }
    )
    for page in pages:
        fetched = FetchedPage(page.url, page.url, 200, HEADERS, page.body, FETCHED_AT, "seeds", "bench")
        fetched.outlet_id = page.outlet
        archive.add_capture(fetched, hashlib.sha256(page.body).hexdigest())
    if compacted:
        compact(archive)
    return archive


def vacuumed_size(archive: Archive, scratch: Path) -> int:
    out = scratch / f"vacuumed-{time.monotonic_ns()}.db"
    archive.conn.execute("VACUUM INTO ?", (str(out),))
    size = out.stat().st_size
    out.unlink()
    return size


def body_bytes(archive: Archive, where: str = "1") -> tuple[int, int]:
    """(bodies, bytes) of the bodies matching `where` (SQL from this module only)."""
    row = archive.row(f"SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS bytes FROM capture_bodies WHERE {where}")
    return row["n"], row["bytes"]


def dictionary_bytes(archive: Archive) -> int:
    return archive.row("SELECT coalesce(sum(length(dictionary)), 0) AS n FROM compression_dictionaries")["n"]


def size_table(
    pages: list[GeneratedPage], warc_bytes: int, plain: Archive, with_dicts: Archive, held_out: tuple[int, int], scratch: Path
) -> None:
    n = len(pages)
    raw = sum(len(p.body) for p in pages)
    rows = [
        ("raw HTML", raw, None, None),
        (f"gzipped WARC (warcio {version('warcio')}, per record)", warc_bytes, None, None),
        (f"archive, zstd level {LEVEL} per body, no dictionary", vacuumed_size(plain, scratch), body_bytes(plain)[1], 0),
        (
            "archive, per-outlet dictionaries, compacted",
            vacuumed_size(with_dicts, scratch),
            body_bytes(with_dicts)[1],
            dictionary_bytes(with_dicts),
        ),
    ]
    print(f"\n{n} captures, {len(pages) and len({p.outlet for p in pages})} outlets\n")
    print("| storage | bytes per capture | vs gzipped WARC | bodies per capture | dictionaries per capture |")
    print("|---|---|---|---|---|")
    for name, total, bodies, dictionaries in rows:
        cells = [
            f"{total / n:,.0f}",
            f"{total / warc_bytes:.2f}x",
            "" if bodies is None else f"{bodies / n:,.0f}",
            "" if dictionaries is None else f"{dictionaries / n:,.0f}",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    bodies, total = held_out
    print(
        f"\nBodies compressed during the crawl with a dictionary trained before they came ({bodies}): "
        f"{total / bodies:,.0f} bytes each."
    )


def sweep(corpus: dict[str, list[GeneratedPage]], samples: int, sizes: tuple[int, ...]) -> None:
    """Dictionary size against bytes per capture, dictionaries included (no database)."""
    n = sum(len(pages) for pages in corpus.values())
    print("\n| dictionary size (max) | bodies + dictionaries per capture | training s per outlet |")
    print("|---|---|---|")
    for size in sizes:
        total, seconds = 0, 0.0
        for pages in corpus.values():
            bodies = [p.body for p in pages]
            started = time.perf_counter()
            dictionary = train(bodies[:samples], size) or b""
            seconds += time.perf_counter() - started
            compressor = _compressor(dictionary)
            total += len(dictionary) + sum(len(compressor.compress(b)) for b in bodies)
        print(f"| {size // 1024} KiB | {total / n:,.0f} | {seconds / len(corpus):.2f} |")


def _compressor(dictionary: bytes) -> zstandard.ZstdCompressor:
    """With the dictionary; plain where training found too little to learn from (b"")."""
    if not dictionary:
        return zstandard.ZstdCompressor(level=LEVEL)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=zstandard.ZstdCompressionDict(dictionary))


def _decompressor(dictionary: bytes) -> zstandard.ZstdDecompressor:
    return (
        zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary))
        if dictionary
        else zstandard.ZstdDecompressor()
    )


def timing(corpus: dict[str, list[GeneratedPage]], samples: int, size: int, pages_per_outlet: int) -> None:
    """Per body: compression and decompression by each method, taking turns body by body."""
    dictionaries = {o: train([p.body for p in pages[:samples]], size) or b"" for o, pages in corpus.items()}
    with_dict = {o: _compressor(d) for o, d in dictionaries.items()}
    read_dict = {o: _decompressor(d) for o, d in dictionaries.items()}
    plain, read_plain = zstandard.ZstdCompressor(level=LEVEL), zstandard.ZstdDecompressor()

    def gzip_record(outlet: str, body: bytes) -> bytes:  # warcio's own settings: level 9, a gzip member per record
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return compressor.compress(body) + compressor.flush()

    methods: dict[str, tuple[Callable, Callable]] = {
        f"zstd level {LEVEL}": (lambda o, b: plain.compress(b), lambda o, c: read_plain.decompress(c)),
        f"zstd level {LEVEL} + outlet dictionary": (
            lambda o, b: with_dict[o].compress(b),
            lambda o, c: read_dict[o].decompress(c),
        ),
        "gzip level 9 (warcio's)": (gzip_record, lambda o, c: zlib.decompress(c, zlib.MAX_WBITS + 16)),
    }
    pages = [p for pages in corpus.values() for p in pages[:pages_per_outlet]]
    spent = {name: [0.0, 0.0] for name in methods}
    for page in pages:
        for name, (pack, unpack) in methods.items():
            started = time.perf_counter()
            packed = pack(page.outlet, page.body)
            middle = time.perf_counter()
            assert unpack(page.outlet, packed) == page.body
            spent[name][0] += middle - started
            spent[name][1] += time.perf_counter() - middle
    megabytes = sum(len(p.body) for p in pages) / 1e6
    print(f"\n{len(pages)} bodies, {megabytes / len(pages) * 1000:,.0f} kB each on average\n")
    print("| method | compress ms per body | MB/s | decompress ms per body | MB/s |")
    print("|---|---|---|---|---|")
    for name, (packing, unpacking) in spent.items():
        print(
            f"| {name} | {packing / len(pages) * 1000:.2f} | {megabytes / packing:.0f} | "
            f"{unpacking / len(pages) * 1000:.2f} | {megabytes / unpacking:.0f} |"
        )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"zstandard {zstandard.__version__} (libzstd {zstandard.ZSTD_VERSION}), SQLite {sqlite3.sqlite_version}; "
        f"load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--outlets", type=int, default=24, help="outlets (templates) to build; 0: every usable one")
    parser.add_argument("--pages-per-outlet", type=int, default=90, help="at most 90: one per other benchmark article")
    parser.add_argument("--samples", type=int, default=DICTIONARY_SAMPLES)
    parser.add_argument("--dictionary-size", type=int, default=DICTIONARY_SIZE)
    parser.add_argument("--timing-pages", type=int, default=20, help="pages per outlet timed one by one")
    parser.add_argument("--profile", action="store_true", help="profile the dictionary archive's build and compaction")
    args = parser.parse_args()
    if not (args.data / "ground-truth.json").exists():
        parser.error(f"no extraction benchmark at {args.data} (ground-truth.json); give its folder")
    print(f"{dt.date.today()}: {machine()}")
    corpus = build_corpus(args.data, args.outlets, args.pages_per_outlet)
    pages = interleaved(corpus)
    policy = DictionaryPolicy(args.samples, args.dictionary_size)
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        started = time.perf_counter()
        warc_bytes = write_warc(pages, scratch / "pages.warc.gz")
        print(f"WARC written in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        plain = build_archive(pages, scratch / "plain.db", DictionaryPolicy(samples=0), compacted=False)
        print(f"plain archive built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        with_dicts = build_archive(pages, scratch / "dicts.db", policy, compacted=False)
        held_out = body_bytes(with_dicts, "compression != 'zstd'")
        compact(with_dicts)
        if profile:
            profile.disable()
        print(f"dictionary archive built and compacted in {time.perf_counter() - started:.1f} s")
        size_table(pages, warc_bytes, plain, with_dicts, held_out, scratch)
        plain.close(), with_dicts.close()
    if profile:
        print("\nProfile of the dictionary archive's build and compaction (top 8 by own time):")
        pstats.Stats(profile).sort_stats("tottime").print_stats(8)
    sweep(corpus, args.samples, SWEEP_SIZES)
    timing(corpus, args.samples, args.dictionary_size, args.timing_pages)


if __name__ == "__main__":
    main()
