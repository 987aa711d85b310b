"""Files and folders written beside their target under a temporary name, moved into place only when complete.

A partial output is named `.TARGET.RANDOM.partial` and locked (flock) while its writer lives.
Whatever stops the writer, an exception, Ctrl-C or a full disk, removes it; a writer killed
outright (kill -9) cannot, so the next writer for the same target removes the partials no live
process holds.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
JOURNAL_SUFFIXES = ("-journal", "-wal", "-shm")  # what SQLite may leave beside a database file


class TargetExists(Exception):
    """The target path is taken: nothing was overwritten."""


@contextmanager
def partial_file(target: Path) -> Iterator[Path]:
    """An empty new file beside `target`, for `publish`; removed on the way out unless published."""
    remove_stale_partials(target)
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    path = Path(name)
    try:
        yield path
    finally:
        _remove(path)
        os.close(descriptor)


@contextmanager
def partial_folder(target: Path) -> Iterator[Path]:
    """An empty new folder beside `target`, for `publish`; removed on the way out unless published."""
    remove_stale_partials(target)
    path = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX))
    descriptor = os.open(path, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        _remove(path)
        os.close(descriptor)


def publish(partial: Path, target: Path) -> None:
    """Move a complete partial output to `target`, never over anything already there."""
    _sync(partial)
    _open_up(partial)
    if partial.is_dir():
        if target.exists():
            raise TargetExists(f"{target} exists already")
        os.rename(partial, target)  # a folder created at target meanwhile, if not empty, makes this fail
    else:
        _link(partial, target)
        partial.unlink()
    _sync_folder(target.parent)


def remove_stale_partials(target: Path) -> None:
    """Remove the partial outputs for `target` left by writers that were killed."""
    for name in glob.glob(os.path.join(glob.escape(str(target.parent)), f".{glob.escape(target.name)}.*{PARTIAL_SUFFIX}")):
        path = Path(name)
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live writer holds it
        else:
            _remove(path)
        finally:
            os.close(descriptor)


def _link(partial: Path, target: Path) -> None:
    try:
        os.link(partial, target)
    except FileExistsError:
        raise TargetExists(f"{target} exists already") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A file system without hard links: check, then rename (a small window, not an atomic test).
        if target.exists():
            raise TargetExists(f"{target} exists already") from None
        os.rename(partial, target)


def _open_up(path: Path) -> None:
    """The permissions a new file or folder gets (the umask's), not the private ones it was written with."""
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    for suffix in JOURNAL_SUFFIXES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _sync(path: Path) -> None:
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for item in paths:
        if item.is_file():
            descriptor = os.open(item, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    if path.is_dir():
        _sync_folder(path)


def _sync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
