"""A release stopped at any moment (kill -9, Ctrl-C, kill, a full disk) leaves nothing at its
target and no text beside it: real `clippings release` subprocesses, real signals, a real EFBIG."""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT, rows
from .leaks import archive_text_runs, leaks_in_folder

COPIES = 400  # the demo's articles times this: a release that takes long enough to be caught in the act


GROW_ARCHIVE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
columns = [c[1] for c in conn.execute("PRAGMA table_info(articles)") if c[1] != "id"]
chosen = ", ".join("url || '?copy=' || n" if c == "url" else
                   "text || ' Copy number ' || n || ' of the story.'" if c == "text" else
                   "text_sha256 || '-' || n" if c == "text_sha256" else c for c in columns)
conn.execute(f"WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {int(sys.argv[2])}) "
             f"INSERT INTO articles ({', '.join(columns)}) SELECT {chosen} FROM articles, k")
conn.commit()
conn.close()
"""


@pytest.fixture(scope="module")
def big_archive(demo_archive, tmp_path_factory) -> Path:
    """The demo archive with each article repeated under other URLs and texts (each text with a
    number of its own), and a version of each."""
    path = tmp_path_factory.mktemp("big") / "archive.db"
    shutil.copy(demo_archive, path)
    # In a process of its own: Datasette run in this one by other tests sets SQLite's heap limit
    # (process-wide, never raised again), and this insert's full-text index needs more.
    subprocess.run([sys.executable, "-c", GROW_ARCHIVE, str(path), str(COPIES)], check=True, timeout=600)
    return path


@pytest.fixture(scope="module")
def runs(big_archive):
    return archive_text_runs(big_archive)


def start_release(big_archive: Path, folder: Path, *args: str, limit_bytes: int | None = None) -> subprocess.Popen:
    def limit_file_size():
        # A real write failure: writes past the limit fail with EFBIG (SIGXFSZ ignored, as a
        # program that handles its errors would see a full disk).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        [sys.executable, "-m", "clippings", "release", "--db", str(big_archive), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit_file_size if limit_bytes else None,
    )


def wait_for_output(process: subprocess.Popen, folder: Path) -> bool:
    """Wait until the release has started writing in `folder`; False if it ended first."""
    while process.poll() is None:
        if any(folder.iterdir()):
            return True
        time.sleep(0.001)
    return False


@pytest.fixture(scope="module")
def build_seconds(big_archive, tmp_path_factory) -> float:
    """How long the release writes, from its first file to its end (to spread the kills over)."""
    folder = tmp_path_factory.mktemp("timing")
    process = start_release(big_archive, folder, "--public", "--out", str(folder / "public.db"))
    assert wait_for_output(process, folder)
    started = time.monotonic()
    assert process.wait(timeout=600) == 0, process.stderr.read()
    return time.monotonic() - started


@pytest.mark.parametrize("share", [0.0, 0.1, 0.3, 0.5, 0.7, 0.9])
@pytest.mark.parametrize("kind", ["--public", "--datapackage"])
@pytest.mark.slow
def test_release_killed_outright_leaves_no_text(big_archive, runs, build_seconds, tmp_path, share, kind):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / ("public.db" if kind == "--public" else "package")
    args = ("--public", "--out", str(target)) if kind == "--public" else ("--public", "--datapackage", str(target))
    process = start_release(big_archive, folder, *args)
    if wait_for_output(process, folder):
        time.sleep(share * build_seconds)
        process.kill()
    process.wait(timeout=600)
    assert leaks_in_folder(folder, runs) == {}
    if target.exists():  # killed once the release was in place: it is complete
        assert_complete(target)
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    # The next release removes what the killed one could not, and completes.
    again = start_release(big_archive, folder, *args)
    assert again.wait(timeout=600) == 0, again.stderr.read()
    assert sorted(p.name for p in folder.iterdir()) == [target.name]
    assert_complete(target)
    assert leaks_in_folder(folder, runs) == {}


def assert_complete(target: Path) -> None:
    if target.is_dir():
        assert (target / "datapackage.json").is_file() and (target / "CITATION.cff").is_file()
    else:
        assert rows(target, "PRAGMA integrity_check") == [("ok",)]
        assert rows(target, "SELECT kind FROM releases") == [("public",)]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("kind", ["--public", "--full"])
def test_release_stopped_by_a_signal_removes_its_partial_file(big_archive, runs, build_seconds, tmp_path, signum, kind):
    folder = tmp_path / "out"
    folder.mkdir()
    process = start_release(big_archive, folder, kind, "--out", str(folder / "release.db"))
    assert wait_for_output(process, folder)
    time.sleep(build_seconds / 3)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=600)
    assert "Traceback" not in stderr
    if (folder / "release.db").exists():  # the signal came once the release was in place
        assert [p.name for p in folder.iterdir()] == ["release.db"]
        assert rows(folder / "release.db", "SELECT kind FROM releases") == [(kind.lstrip("-"),)]
    else:
        assert process.returncode != 0 and list(folder.iterdir()) == []
    assert leaks_in_folder(folder, runs) == {} or kind == "--full"


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("--public", "--out", "release.db"),
        ("--full", "--out", "release.db"),
        ("--public", "--datapackage", "package"),
        ("--full", "--datapackage", "package"),
    ],
)
def test_release_on_a_full_disk_says_so_and_leaves_nothing(big_archive, runs, tmp_path, args):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / args[-1]
    process = start_release(big_archive, folder, *args[:-1], str(target), limit_bytes=256 * 1024)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("Error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert "disk" in stderr
    assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_the_archive_is_untouched_by_a_killed_release(big_archive, tmp_path):
    before = rows(big_archive, "SELECT count(*), sum(length(text)) FROM articles")
    process = start_release(big_archive, tmp_path, "--full", "--out", str(tmp_path / "full.db"))
    wait_for_output(process, tmp_path)
    process.kill()
    process.wait(timeout=600)
    assert rows(big_archive, "SELECT count(*), sum(length(text)) FROM articles") == before
    assert rows(big_archive, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.slow
def test_datapackage_on_a_full_disk_leaves_nothing(big_archive, runs, tmp_path):
    """The CSVs fail to write (EFBIG), from a release file that is only read."""
    release = tmp_path / "public.db"
    assert start_release(big_archive, tmp_path, "--public", "--out", str(release)).wait(timeout=600) == 0
    folder = tmp_path / "out"
    folder.mkdir()
    script = (
        "import sys; from pathlib import Path; from clippings.datapackage import PackageError, write_datapackage\n"
        "try:\n    write_datapackage(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "except PackageError as error:\n    sys.exit(f'Error: {error}')\n"
    )

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run(
        [sys.executable, "-c", script, str(release), str(folder / "package")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=600,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "File too large" in result.stderr and "nothing was left there" in result.stderr
    assert list(folder.iterdir()) == []
