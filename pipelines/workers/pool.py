"""Worker processes for the CPU-bound part of a page, so extraction neither holds Scrapy's event
loop nor leaves a core idle.

ExtractionPool.run(function, *args) awaits function(*args, **shared) in a worker process (or calls it
in place with 0 workers, the old behaviour). `shared` holds what is the same for every call of the
crawl (the topic matcher, the minimum words): it goes to each worker once, when the worker
starts, not with every page. A page whose worker dies (a crash in lxml, a killed
process) is tried once more, alone in a fresh process, so that one bad page cannot take other
pages down with it; if that process dies too, the page is a reject. An exception other than
Rejected is a reject as well, with its type and message: one page never stops the crawl.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pipelines.core.analysis import Rejected

logger = logging.getLogger(__name__)
Result = TypeVar("Result")

# Workers start from a fork server that has already imported the extraction code, so a
# fresh worker costs a fork, not a second of imports; and nothing is forked from Scrapy's own
# process, whose threads (DNS, the reactor's pool) a fork would copy mid-flight.
START_METHOD = "forkserver"
PRELOAD = ["pipelines.workers.preload"]


class ExtractionPool:
    """A process pool for one crawl: start() in open_spider, close() in close_spider."""

    def __init__(self, workers: int, stage: str = "extract", shared: dict[str, Any] | None = None):
        if workers < 0:
            raise ValueError(f"EXTRACTION_WORKERS must be 0 (in-process) or more, not {workers}")
        self.workers = workers
        self.stage = stage  # the reject stage a crashed page is recorded under
        self.shared = shared or {}  # keyword arguments of every call, sent to each worker once
        self.executor: ProcessPoolExecutor | None = None
        self.replaced = 0  # pools replaced after a worker died

    def start(self) -> None:
        """Every worker is forked here, before the first page: the executor forks on demand, in
        the thread that submits (Scrapy's event loop), and the first fork waits for the fork
        server to load the models (pipelines/workers/preload.py), which would hold the loop meanwhile."""
        if self.workers:
            self.executor = self._new_executor(self.workers)
            concurrent.futures.wait([self.executor.submit(os.getpid) for _ in range(self.workers)])

    def close(self) -> None:
        if self.executor:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """function(*args, **shared) in a worker; Rejected(stage, why) when it cannot give an answer."""
        if not self.executor:
            return self._guarded(function, *args)
        executor = self.executor
        try:
            return await self._answer(executor, function, *args)
        except BrokenProcessPool:
            self._replace(executor)
        return await self._run_alone(function, *args)

    def _guarded(self, function: Callable[..., Result], *args: Any) -> Result:
        try:
            return function(*args, **self.shared)
        except Rejected:
            raise
        except Exception as error:
            raise self._failed(error) from error

    async def _answer(self, executor: ProcessPoolExecutor, function: Callable[..., Result], *args: Any) -> Result:
        """The worker's answer; an exception the work raised, other than Rejected, is the page's reject."""
        try:
            return await asyncio.wrap_future(executor.submit(_with_shared, function, *args))
        except (Rejected, BrokenProcessPool):
            raise
        except Exception as error:
            raise self._failed(error) from error

    async def _run_alone(self, function: Callable[..., Result], *args: Any) -> Result:
        """Again, in a process of its own: a page that kills this one too is the culprit."""
        executor = self._new_executor(1)
        try:
            return await self._answer(executor, function, *args)
        except BrokenProcessPool:
            raise Rejected(self.stage, "extraction crashed its worker process twice (BrokenProcessPool)") from None
        finally:
            executor.shutdown(wait=False)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """The first page to see the pool broken replaces it; the others find it replaced."""
        if self.executor is broken:
            logger.warning("An extraction worker died; the pages it held are tried again, each alone")
            _stop(broken)
            self.executor = self._new_executor(self.workers)
            self.replaced += 1

    def _failed(self, error: Exception) -> Rejected:
        logger.warning("Extraction failed: %s: %s", type(error).__name__, error, exc_info=error)
        return Rejected(self.stage, f"extraction failed ({type(error).__name__}: {error})")

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(START_METHOD)
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), self.shared))


def _stop(broken: ProcessPoolExecutor) -> None:
    """Shut a broken pool down for good. CPython 3.11 terminates the workers a broken pool knows
    and then waits for all of them; a worker it was starting as another died can be missed and
    waited for forever, so that the crawl never exits (seen here). Every worker left is killed."""
    workers = list((broken._processes or {}).values())  # before shutdown() forgets them
    broken.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.kill()


# In a worker: the pool's `shared` arguments, as _start_worker received them.
_shared: dict[str, Any] = {}


def _with_shared(function: Callable[..., Result], *args: Any) -> Result:
    return function(*args, **_shared)


def _start_worker(crawl: int, shared: dict[str, Any]) -> None:
    """Ctrl-C reaches the whole process group: Scrapy's process finishes the pages in flight
    (its first Ctrl-C is a graceful stop), so the workers must not die of it first. And a
    worker leaves when the crawl's process is gone (killed on its own, with kill -9), where it
    would otherwise wait for work forever."""
    _shared.update(shared)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(crawl,), name="exit-with-crawl", daemon=True).start()


def _exit_with(crawl: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(crawl, 0)
        except ProcessLookupError:
            os._exit(0)
