"""The worker pool for the CPU-bound part of a page (pipelines/core/analysis.py), one for the crawl,
`clippings import` and `clippings reextract`: extraction neither holds Scrapy's event loop nor
leaves a core idle.

ExtractionPool runs function(*args, **shared), by its `workers`:
- 0: in this process (no pickling, easiest to debug; a crash there is the command's);
- N: in N local worker processes, forked from a fork server that has loaded the extraction code
  and models once (pipelines/workers/preload.py);
- with a Dask scheduler's address: on the cluster's workers.
`shared` holds what is the same for every call of a run (the topic matcher, the research
thresholds, analysis_arguments): it reaches each worker once (a process, when it starts; a
Dask worker, scattered to it), not with every page.

A worker that dies (a crash in lxml, out of memory, a kill) takes the work it held with it: each
page of that work is tried once more, alone, in a fresh process (on Dask, as a task of its own),
so that one bad page cannot take others down with it; if that dies too, the page is the culprit,
and it alone fails with CRASHED: the crawl records it as a reject, import and reextract as a
failed page. The run goes on. In the crawl (run()), an exception other than Rejected is a
reject as well, with its type and message: one page never stops the crawl.
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
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pipelines.core.analysis import Rejected
from pipelines.core.relevance import TopicMatcher
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import Topic

logger = logging.getLogger(__name__)
Result = TypeVar("Result")

# Workers start from a fork server that has already imported the extraction code, so a
# fresh worker costs a fork, not a second of imports; and nothing is forked from Scrapy's own
# process, whose threads (DNS, the reactor's pool) a fork would copy mid-flight.
START_METHOD = "forkserver"
PRELOAD = ["pipelines.workers.preload"]


CRASHED = "extraction crashed its worker process twice (BrokenProcessPool)"


def analysis_arguments(topic: Topic, thresholds: Thresholds) -> dict[str, Any]:
    """The `shared` arguments of the analysis: what every worker of a run needs, whatever the page."""
    return {"matcher": TopicMatcher(topic), "thresholds": thresholds}


class ExtractionPool:
    """The pool of one run: start() before the first page, close() after the last."""

    CONNECT_TIMEOUT = "10s"  # a Dask scheduler that is up answers in well under a second

    def __init__(self, workers: int, stage: str = "extract", shared: dict[str, Any] | None = None, scheduler: str | None = None):
        if workers < 0:
            raise ValueError(f"EXTRACTION_WORKERS must be 0 (in-process) or more, not {workers}")
        self.workers = workers
        self.stage = stage  # the reject stage a crashed page is recorded under
        self.shared = shared or {}  # keyword arguments of every call, sent to each worker once
        self.scheduler = scheduler
        self.executor: ProcessPoolExecutor | None = None
        self.client = None  # a distributed.Client, with a scheduler
        self.shared_on_cluster: dict[str, Any] = {}  # `shared`, scattered to the Dask workers
        self.replaced = 0  # pools replaced after a worker died

    def start(self) -> None:
        """Every worker is forked here, before the first page: the executor forks on demand, in
        the thread that submits (Scrapy's event loop), and the first fork waits for the fork
        server to load the models (pipelines/workers/preload.py), which would hold the loop
        meanwhile. With a scheduler: connects (OSError or TimeoutError when it cannot)."""
        if self.scheduler:
            from distributed import Client

            self.client = Client(self.scheduler, timeout=self.CONNECT_TIMEOUT)
            self.workers = max(1, len(self.client.scheduler_info()["workers"]))
            self.shared_on_cluster = self.client.scatter(self.shared, broadcast=True, hash=False) if self.shared else {}
        elif self.workers:
            self.executor = self._new_executor(self.workers)
            concurrent.futures.wait([self.executor.submit(os.getpid) for _ in range(self.workers)])

    def close(self) -> None:
        if self.executor:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        if self.client:
            self.client.close()
            self.client = None

    # --- submitting: futures --------------------------------------------------------

    def submit(self, function: Callable[..., Result], *args: Any) -> Future:
        """function(*args, **shared) in a worker: its future. When the worker dies, the future
        raises an error died() knows; recover(future), then try each piece of its work alone()."""
        if self.client:
            return self.client.submit(function, *args, pure=False, **self.shared_on_cluster)
        if not self.executor:
            return _done(function, *args, **self.shared)
        executor = self.executor
        try:
            future = executor.submit(_with_shared, function, *args)
        except BrokenProcessPool as error:  # a worker died since the last submit
            future = Future()
            future.set_exception(error)
        future.executor = executor  # for recover()
        return future

    def alone(self, function: Callable[..., Result], *args: Any) -> Future:
        """As submit(), in a process of its own (on Dask, a task of its own)."""
        if self.client or not self.executor:
            return self.submit(function, *args)
        executor = self._new_executor(1)
        future = executor.submit(_with_shared, function, *args)
        future.add_done_callback(lambda _: executor.shutdown(wait=False))
        return future

    def died(self, error: BaseException) -> bool:
        """Whether the error says the worker died (rather than the work raised)."""
        if isinstance(error, BrokenProcessPool):
            return True
        if self.client:
            from distributed import KilledWorker

            return isinstance(error, KilledWorker)
        return False

    def recover(self, future: Future) -> None:
        """After a worker died: the first future to see its pool broken replaces the pool; the
        others find it replaced. (A Dask cluster replaces its own workers.)"""
        broken = getattr(future, "executor", None)
        if broken is not None and self.executor is broken:
            logger.warning("An extraction worker died; the pages it held are tried again, each alone")
            _stop(broken)
            self.executor = self._new_executor(self.workers)
            self.replaced += 1

    # --- the crawl's: awaited on the event loop ---------------------------------------

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """function(*args, **shared) in a worker; Rejected(stage, why) when it cannot give an answer."""
        if not self.executor:
            return self._guarded(function, *args)
        future = self.submit(function, *args)
        try:
            return await self._answer(future)
        except BrokenProcessPool:
            self.recover(future)
        try:  # in a process of its own: a page that kills this one too is the culprit
            return await self._answer(self.alone(function, *args))
        except BrokenProcessPool:
            raise Rejected(self.stage, CRASHED) from None

    def _guarded(self, function: Callable[..., Result], *args: Any) -> Result:
        try:
            return function(*args, **self.shared)
        except Rejected:
            raise
        except Exception as error:
            raise self._failed(error) from error

    async def _answer(self, future: Future) -> Any:
        """The worker's answer; an exception the work raised, other than Rejected, is the page's reject."""
        try:
            return await asyncio.wrap_future(future)
        except (Rejected, BrokenProcessPool):
            raise
        except Exception as error:
            raise self._failed(error) from error

    def _failed(self, error: Exception) -> Rejected:
        logger.warning("Extraction failed: %s: %s", type(error).__name__, error, exc_info=error)
        return Rejected(self.stage, f"extraction failed ({type(error).__name__}: {error})")

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(START_METHOD)
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), self.shared))


def _done(function: Callable[..., Result], *args: Any, **shared: Any) -> Future:
    """function's answer (or its exception) as a future, computed here and now."""
    future: Future = Future()
    try:
        future.set_result(function(*args, **shared))
    except Exception as error:
        future.set_exception(error)
    return future


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
    """Ctrl-C reaches the whole process group: Scrapy's process finishes the pages in flight (its
    first Ctrl-C is a graceful stop), an import records how far it got, so the workers must not
    die of it first. And a worker leaves when the process it works for is gone (killed on its
    own, with kill -9), where it would otherwise wait for work forever."""
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
