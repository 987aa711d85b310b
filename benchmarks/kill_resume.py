"""Kill and resume at random moments: SIGKILL a real `clippings crawl` at a seeded random request,
run the same command again, and compare the archive with an uninterrupted crawl's, row by row.

    python -m benchmarks.kill_resume [KILLS] [SEED]      # from the repository root

The site and the comparison are the ones tests/test_resume.py uses; results go in RELIABILITY.md.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
from pathlib import Path

from tests.sites import Site, page, sitemap
from tests.test_resume import ROUTES, crawl, snapshot

REQUESTS_PER_CRAWL = 17  # robots.txt, the sitemap and 15 pages


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def compare(reference: dict[str, list[tuple]], resumed: dict[str, list[tuple]]) -> tuple[int, int]:
    """Rows of the uninterrupted archive missing from the resumed one; rows it has in excess."""
    lost = sum(len(set(reference[t]) - set(resumed[t])) for t in reference)
    extra = sum(len(resumed[t]) - len(reference[t]) + len(set(reference[t]) - set(resumed[t])) for t in reference)
    return lost, extra


def main(kills: int = 20, seed: int = 6) -> int:
    rng = random.Random(seed)
    failures = 0
    with Site(dict(ROUTES)) as site, tempfile.TemporaryDirectory() as scratch:
        site.server.routes["/sitemap.xml"] = page(sitemap([site.url(path) for path in ROUTES]))
        uninterrupted = Path(scratch, "uninterrupted")
        uninterrupted.mkdir()
        crawl(site, uninterrupted)
        reference = snapshot(uninterrupted / "archive.db")
        print(f"uninterrupted: {sum(len(rows) for rows in reference.values())} rows in {len(reference)} tables")
        for number in range(1, kills + 1):
            where = Path(scratch, f"kill-{number}")
            where.mkdir()
            at = rng.randint(1, REQUESTS_PER_CRAWL)
            killed = crawl(site, where, at)
            first = len(site.server.requests)
            finished = crawl(site, where)
            refetched = len(site.server.requests) - first - 2  # the resumed run's pages
            lost, extra = compare(reference, snapshot(where / "archive.db"))
            check = integrity(where / "archive.db")
            failures += bool(lost or extra or check != "ok" or finished != 0)
            print(
                f"kill {number:2}: at request {at:2}, exit {killed}; resumed, exit {finished}, "
                f"{refetched:2} pages fetched; rows lost {lost}, rows extra {extra}, integrity {check}"
            )
    print(f"{kills} kills, {failures} resumed archives differing from the uninterrupted one")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
