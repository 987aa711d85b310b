"""Reading commands never change an archive's bytes and work on read-only storage; writing
commands on read-only storage give one sentence. Real files, a real read-only mount, the real CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT, SCRAPY_ENV, run_clippings
from .serving import serving


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(directory: Path) -> dict[str, str]:
    """Every file of the directory and the SHA-256 of its bytes."""
    return {path.name: sha256(path) for path in sorted(directory.iterdir()) if path.is_file()}


def mounted_read_only(directory: Path) -> list[str]:
    """A command prefix running the command with `directory` bind-mounted read-only, in a user
    and mount namespace of its own: there, even root gets EROFS, as on a read-only disk."""
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, str(directory)]


def clippings(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "clippings", *map(str, args)],
        cwd=PROJECT_ROOT,
        env=SCRAPY_ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def read_only_mount(tmp_path_factory) -> None:
    """Skips unless this machine lets an unprivileged user and mount namespace mount read-only."""
    probe = tmp_path_factory.mktemp("probe")
    try:
        result = subprocess.run(
            [*mounted_read_only(probe), "touch", str(probe / "written")], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        pytest.skip("unshare (util-linux) is not installed")
    if "Read-only file system" not in result.stderr:
        pytest.skip(f"cannot make a read-only mount here: {result.stderr.strip()}")


@pytest.fixture(scope="module")
def published(demo_archive, tmp_path_factory) -> Path:
    """A directory holding an archive (WAL mode) and a public release of it (rollback journal)."""
    directory = tmp_path_factory.mktemp("published")
    shutil.copy(demo_archive, directory / "archive.db")
    result = run_clippings("release", "--public", "--db", str(demo_archive), "--out", str(directory / "public.db"))
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture
def shelf(published, tmp_path) -> Path:
    """A fresh copy of the published directory for one test."""
    directory = tmp_path / "shelf"
    shutil.copytree(published, directory)
    return directory


def pending_wal_archive(demo_archive: Path, directory: Path) -> Path:
    """An archive whose last writes are still in its -wal file (not checkpointed): what a crawl
    leaves while it runs. Closing the last read-write connection would checkpoint them."""
    scratch = directory.parent / f"{directory.name}-scratch"
    scratch.mkdir()
    shutil.copy(demo_archive, scratch / "pending.db")
    with closing(sqlite3.connect(scratch / "pending.db")) as writer:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE outlets SET name = name || ' (renamed)'")
        writer.commit()
        for name in ("pending.db", "pending.db-wal"):  # as they are while the writer holds them
            shutil.copy(scratch / name, directory / name)
    shutil.rmtree(scratch)
    assert (directory / "pending.db-wal").stat().st_size > 0
    return directory / "pending.db"


READING_COMMANDS = [
    ("coverage", "--db", "{db}"),
    ("takedown", "list", "--db", "{db}"),
    ("release", "--public", "--db", "{db}", "--out", "{out}/release.db"),
]
# Each reading command on the archive, and those that apply to a release on the release.
READINGS = [("archive.db", command) for command in READING_COMMANDS] + [
    ("public.db", command) for command in READING_COMMANDS if command[0] != "release"
]

READING_IDS = [f"{name}-{' '.join(command[:2])}" for name, command in READINGS]


@pytest.mark.parametrize("name, command", READINGS, ids=READING_IDS)
def test_reading_command_leaves_the_file_as_it_was(shelf, tmp_path, name, command):
    db = shelf / name
    before = fingerprint(shelf)
    result = clippings(*(part.format(db=db, out=tmp_path) for part in command))
    assert result.returncode == 0, result.stderr
    assert fingerprint(shelf)[name] == before[name]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_reading_command_leaves_pending_wal_changes_where_they_are(demo_archive, tmp_path, command):
    directory = tmp_path / "shelf"
    directory.mkdir()
    db = pending_wal_archive(demo_archive, directory)
    before = fingerprint(directory)
    result = clippings(*(part.format(db=db, out=tmp_path) for part in command))
    assert result.returncode == 0, result.stderr
    after = fingerprint(directory)
    assert {name: after.get(name) for name in before} == before


@pytest.mark.parametrize("name, command", READINGS, ids=READING_IDS)
def test_reading_command_works_on_read_only_storage(read_only_mount, shelf, tmp_path, name, command):
    before = fingerprint(shelf)
    result = clippings(*(part.format(db=shelf / name, out=tmp_path) for part in command), prefix=mounted_read_only(shelf))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(shelf) == before


WRITING_COMMANDS = [
    ("takedown", "add", "https://e.example/*", "--reason", "asked", "--db", "{db}"),
    ("takedown", "apply", "--db", "{db}"),
    ("compact", "--db", "{db}"),
    ("reextract", "--db", "{db}"),
    ("import", "{db}", "--db", "{db}"),
    ("crawl", "--db", "{db}"),
    ("rehydrate", "{db}"),
]


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_writing_command_on_read_only_storage_is_one_sentence(read_only_mount, shelf, command):
    before = fingerprint(shelf)
    db = shelf / ("public.db" if command[0] == "rehydrate" else "archive.db")
    result = clippings(*(part.format(db=db) for part in command), prefix=mounted_read_only(shelf))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Error: {db} is read-only" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert fingerprint(shelf) == before


@pytest.mark.parametrize("command", WRITING_COMMANDS[:3], ids=lambda c: " ".join(c[:2]))
def test_writing_command_refuses_a_file_marked_read_only(shelf, command):
    """chmod 0444: root could write it anyway, but its owner said it must not change."""
    db = shelf / "archive.db"
    db.chmod(0o444)
    before = fingerprint(shelf)
    result = clippings(*(part.format(db=db) for part in command))
    assert result.returncode == 1, result.stderr
    assert f"Error: {db} is read-only" in result.stderr and "Traceback" not in result.stderr
    assert fingerprint(shelf) == before


def test_writing_command_refuses_a_directory_marked_read_only(shelf):
    """SQLite writes its journal beside the archive: a directory without write permission is read-only storage."""
    shelf.chmod(0o555)
    try:
        result = clippings("takedown", "apply", "--db", shelf / "archive.db")
    finally:
        shelf.chmod(0o755)
    assert result.returncode == 1
    assert f"its directory {shelf} is read-only" in result.stderr and "Traceback" not in result.stderr


# --- serve ----------------------------------------------------------------------------------


def read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def article_count(db: Path) -> int:
    """Read without leaving a -wal or -shm file beside the archive."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


@pytest.mark.parametrize("options", [(), ("--immutable",)], ids=["mutable", "immutable"])
@pytest.mark.parametrize("name", ["archive.db", "public.db"])
@pytest.mark.slow
def test_serve_leaves_the_file_as_it_was(shelf, name, options):
    db = shelf / name
    before = sha256(db)
    with serving(db, *options) as (base_url, _):
        page = read(f"{base_url}/{db.stem}/articles.json?_shape=array&_size=max")
        read(f"{base_url}/{db.stem}/articles/1")
    assert page.count('"id":') == article_count(db)
    assert sha256(db) == before


@pytest.mark.parametrize("options", [(), ("--immutable",)], ids=["mutable", "immutable"])
@pytest.mark.parametrize("name", ["archive.db", "public.db"])
@pytest.mark.slow
def test_serve_works_on_read_only_storage(read_only_mount, shelf, name, options):
    db = shelf / name
    before = fingerprint(shelf)
    with serving(db, *options, prefix=mounted_read_only(shelf)) as (base_url, _):
        page = read(f"{base_url}/{db.stem}/articles.json?_shape=array&_size=max")
        assert "clippings-article" in read(f"{base_url}/{db.stem}/articles/1")
    assert page.count('"id":') == article_count(db)
    assert fingerprint(shelf) == before


def test_pending_wal_on_read_only_storage_is_one_sentence(read_only_mount, demo_archive, tmp_path):
    """Read-only storage gives SQLite no -shm file: such an archive opens only as immutable, which
    would ignore the changes in its -wal file. Refused, rather than shown without them."""
    directory = tmp_path / "shelf"
    directory.mkdir()
    db = pending_wal_archive(demo_archive, directory)
    result = clippings("coverage", "--db", db, prefix=mounted_read_only(directory))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pending.db-wal" in result.stderr and "read-only" in result.stderr


def test_chmod_alone_does_not_stop_root(shelf):
    """Why the tests above use a read-only mount: as root, a 0444 file is still written."""
    if os.geteuid() != 0:
        pytest.skip("only root writes through file permissions")
    db = shelf / "public.db"
    before = sha256(db)
    db.chmod(0o444)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    assert sha256(db) != before


@pytest.mark.slow
def test_older_archive_is_read_after_an_explicit_upgrade(tmp_path):
    """A reading command does not migrate an archive written by an older clippings: it says how to."""
    from pipelines.store.schema import MIGRATIONS, SCHEMA_VERSION, _apply

    db = tmp_path / "old.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        for number, migration in enumerate(MIGRATIONS[:-1], start=1):
            _apply(conn, migration, number)
    before = sha256(db)
    result = clippings("coverage", "--db", db)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"archive schema {SCHEMA_VERSION - 1}; this one reads {SCHEMA_VERSION}" in result.stderr
    assert f"clippings upgrade --db {db}" in result.stderr
    assert sha256(db) == before
    assert clippings("upgrade", "--db", db).returncode == 0
    result = clippings("coverage", "--db", db)
    assert result.returncode == 0 and "No dated articles" in result.stdout


def test_read_only_archive_cannot_write(shelf):
    from pipelines.store.archive import Archive

    archive = Archive(shelf / "public.db", read_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            archive.conn.execute("DELETE FROM articles")
        assert archive.count("articles") > 0 and not archive.immutable
    finally:
        archive.close()
