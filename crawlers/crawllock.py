"""One crawl of a spider into an archive at a time: an advisory lock (flock) that the kernel
releases when its process ends, however it ends, so a killed crawl leaves no lock held."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class CrawlRunning(Exception):
    """Another process holds the lock: the message names it."""


def lock_path(archive: Path, spider: str) -> Path:
    """Beside the job states (crawlers/jobstate.py), one per spider: archive.jobs/sitemaps.lock."""
    return archive.parent / f"{archive.stem}.jobs" / f"{spider}.lock"


class CrawlLock:
    """Held from acquire() to release() (or the end of the process). The file is removed on
    release; a killed crawl leaves it behind, unlocked, and the next crawl takes it."""

    def __init__(self, archive: Path, spider: str):
        self.archive = archive
        self.spider = spider
        self.path = lock_path(archive, spider)
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise CrawlRunning at once (a second crawl is refused, not queued)."""
        while self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                continue  # the folder was removed by a crawl ending meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                raise CrawlRunning(
                    f"another {self.spider} crawl (process {holder or 'unknown'}) is writing to "
                    f"{self.archive}; wait for it to end, or stop it, then run this command again"
                ) from None
            if self._still_named(fd):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                self.fd = fd
            else:  # locked a file its holder removed on release: take the one now there
                os.close(fd)

    def _still_named(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove the file while holding the lock (so no one locks a removed file unknowingly),
        then the folder if nothing else is in it."""
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None
        try:
            self.path.parent.rmdir()
        except OSError:
            pass  # a job state or another spider's lock is in it
