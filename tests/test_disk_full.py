"""A full disk during a crawl: the crawl stops with one sentence and a non-zero exit, keeps its job
state, and the same command, run again with space, completes the archive an uninterrupted crawl builds.

The disk is full for real, two ways:
- `tmpfs`: the archive's folder is a 1.5 MiB tmpfs, mounted in a mount namespace of the crawl's own
  (`unshare --user --mount`, no privileges needed where unprivileged user namespaces are allowed);
  every write there (archive, WAL, job state, log) fails with ENOSPC, which SQLite reports as
  SQLITE_FULL. What the crawl left is copied out before the namespace ends.
- `fsize`: RLIMIT_FSIZE set on the running `scrapy crawl` process (prlimit) when the site is asked
  for its first article: no file it writes may grow past 1 MiB any more, which the archive's WAL
  reaches first, and the kernel fails the write with EFBIG (CPython ignores SIGXFSZ, which would
  kill the process). SQLite reports a disk I/O error (SQLITE_IOERR_WRITE). Works everywhere on
  Linux, unprivileged. (Set before the crawl starts, the limit fails it at once: the language
  model unpacks into a temporary file of more than 1 MiB.)
"""

import random
import re
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LOOPBACK, PROJECT_ROOT, SCRAPY_ENV
from .sites import DAY, article_html, html, page, site_with_sitemap
from .test_resume import snapshot

pytestmark = pytest.mark.slow

SIZE_LIMIT = 1024 * 1024  # RLIMIT_FSIZE: a fresh archive is 270 kB, so the crawl stores a few pages first
TMPFS_SIZE = "1536k"  # the archive, its WAL, the job state and the log together
PAGES = 30


def filler(number: int) -> str:
    """About 20 kB of text no other page has: the archive grows by some 60 kB a page (body, text, index)."""
    rng = random.Random(number)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    return " ".join(words) + ". "


ROUTES = {f"/{DAY}/story-{n}/": page(html(article_html(f"number {n}", extra=filler(n)))) for n in range(PAGES)}


def crawl_command(topic: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "clippings", "crawl", "sitemaps", "--topic", str(topic), "--db", str(db), *LOOPBACK]


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=300, **options)


def child_of(pid: int) -> int:
    """The process `clippings crawl` started: `scrapy crawl`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            return int(stat.parent.name)
    raise LookupError(f"process {pid} has no child")


def crawl_with_file_size_limit(command: list[str], site) -> subprocess.CompletedProcess:
    """The crawl, its files limited to SIZE_LIMIT from the first article request on."""
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def limit() -> bool:
        resource.prlimit(child_of(process.pid), resource.RLIMIT_FSIZE, (SIZE_LIMIT, SIZE_LIMIT))
        return False

    with site.when(lambda number, path: path.startswith(f"/{DAY}/"), limit):
        stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


# Mount a tmpfs of $1 bytes on $2, run the command, then copy what it wrote to $3 (the tmpfs
# goes with the namespace). 97: the mount failed.
IN_TMPFS = (
    'size=$1 where=$2 out=$3; shift 3; mount -t tmpfs -o size="$size" tmpfs "$where" || exit 97; '
    '"$@"; code=$?; cp -a "$where"/. "$out"/ || exit 98; exit $code'
)


def tmpfs_available() -> bool:
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True
    )
    return probe.returncode == 0


def crawl_on_full_disk(way: str, site, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """The crawl, its disk filling up; the folder it wrote (archive, job state, log)."""
    topic, out = tmp_path / "topic.yml", tmp_path / "full"
    topic.write_text(site.topic())
    out.mkdir()
    if way == "fsize":
        return crawl_with_file_size_limit(crawl_command(topic, out / "archive.db"), site), out
    if not tmpfs_available():
        pytest.skip("no unprivileged user and mount namespaces here (unshare --user --mount)")
    where = tmp_path / "tmpfs"
    where.mkdir()
    command = [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        IN_TMPFS,
        "sh",
        TMPFS_SIZE,
        str(where),
        str(out),
        *crawl_command(topic, where / "archive.db"),
    ]
    return run(command), out


RUN_COUNTS = "SELECT articles_added, copies_added, versions_added, rejects, fetch_failures FROM crawl_runs"


@pytest.fixture(scope="module")
def site():
    with site_with_sitemap(ROUTES) as running:
        yield running


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    topic = tmp_path / "topic.yml"
    topic.write_text(site.topic())
    result = run(crawl_command(topic, tmp_path / "archive.db"))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "archive.db")
    counts = conn.execute(RUN_COUNTS).fetchall()
    conn.close()
    return snapshot(tmp_path / "archive.db"), counts


@pytest.fixture(scope="module", params=["tmpfs", "fsize"])
def full_disk(request, site, tmp_path_factory):
    """The crawl on a disk that fills up, then the same command with space again."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    stopped, out = crawl_on_full_disk(request.param, site, tmp_path)
    conn = sqlite3.connect(out / "archive.db")
    left = {
        "job_state": (out / "archive.jobs" / "sitemaps-metoo.sqlite").exists(),
        "runs": conn.execute("SELECT finish_reason FROM crawl_runs").fetchall(),
        "counts": conn.execute(RUN_COUNTS).fetchall(),
        "stored": conn.execute(
            "SELECT (SELECT count(*) FROM articles), 0, 0, (SELECT count(*) FROM rejects), (SELECT count(*) FROM fetch_failures)"
        ).fetchall(),
        "integrity": conn.execute("PRAGMA integrity_check").fetchall(),
    }
    conn.close()
    resumed = run(crawl_command(tmp_path / "topic.yml", out / "archive.db"))
    return stopped, left, resumed, out


def test_full_disk_stops_the_crawl_with_one_sentence(full_disk):
    stopped, left, resumed, out = full_disk
    assert stopped.returncode not in (0, 97, 98), stopped.stderr[-3000:]
    assert "Traceback" not in stopped.stderr, stopped.stderr[-3000:]
    error = stopped.stderr.strip().splitlines()[-1]
    # On the tmpfs, the job state (beside the archive) may be the first write refused.
    assert re.match(r"Error: the sitemaps crawl stopped: (the archive|its job state \S+) could not be written \(", error), error
    assert error.endswith("; free some space, then run the same command again to resume."), error


def test_full_disk_keeps_the_job_state_and_an_honest_run(full_disk):
    stopped, left, resumed, out = full_disk
    assert left["job_state"]
    assert left["integrity"] == [("ok",)]
    assert ("finished",) not in left["runs"]
    # What the run counts is what was stored (the row may not even have been writable).
    assert left["counts"] in ([], left["stored"])


def test_full_disk_then_space_again_completes_the_archive(full_disk, uninterrupted):
    stopped, left, resumed, out = full_disk
    reference, counts = uninterrupted
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert snapshot(out / "archive.db") == reference
    conn = sqlite3.connect(out / "archive.db")
    assert conn.execute(RUN_COUNTS).fetchall() == counts
    assert conn.execute("SELECT finish_reason FROM crawl_runs").fetchall() == [("finished",)]
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    assert not (out / "archive.jobs" / "sitemaps-metoo.sqlite").exists()
