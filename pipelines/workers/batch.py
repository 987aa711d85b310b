"""Scale-out for `clippings import` and `clippings reextract`: pages are analysed (analyse_page)
on a local process pool or a Dask cluster, and ONE writer, the calling process, stores the
results in batches.

The writer reads each page's boilerplate (Archive.boilerplate) and sends it with the page.
At most IN_FLIGHT batches are out at a time, so memory stays flat however long the input;
a batch is written in input order, and a page whose outlet's boilerplate changed while it was
out (an earlier page of the same batch made a line cross the threshold) is analysed again by
the writer. The archive is thus the same with 1, 2 or 20 workers: the one a single process
reading the pages in order would build.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from multiprocessing import get_context

import yaml

from pipelines.core.analysis import Rejected, analyse_page
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.thresholds import Thresholds
from pipelines.core.topic import parse_topic
from pipelines.workers.pool import PRELOAD, START_METHOD

BATCH_SIZE = 64  # pages per write transaction
CHUNK_SIZE = 8  # pages per task sent to a worker
IN_FLIGHT = 2  # batches out at once (one being written, one being analysed)


@dataclass
class Job:
    """One page to analyse, with the boilerplate the writer read for its outlet."""

    page: FetchedPage
    boilerplate: frozenset[str]


@dataclass
class Failed:
    """analyse_page raised something other than a reject: a bug or a page that breaks a
    library. The import reports it (which page, what error) and counts it as an error."""

    url: str
    error: str


Outcome = FetchedPage | Rejected | Failed


# --- the worker's side ------------------------------------------------------------


def analyse_chunk(
    pages: list[FetchedPage], boilerplates: list[frozenset[str]], topic_text: str, thresholds: Thresholds
) -> list[Outcome]:
    """Runs in a worker: each page analysed, or its reject, or its failure."""
    matcher = _matcher(topic_text)
    return [analyse_one(page, matcher, thresholds, boilerplate) for page, boilerplate in zip(pages, boilerplates)]


def analyse_one(page: FetchedPage, matcher: TopicMatcher, thresholds: Thresholds, boilerplate: frozenset[str]) -> Outcome:
    try:
        return analyse_page(page, matcher, thresholds, boilerplate)
    except Rejected as reject:
        return reject
    except Exception as error:  # reported per page by the writer, see Failed
        where = traceback.extract_tb(error.__traceback__)[-1]
        return Failed(page.url, f"{type(error).__name__}: {error} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")


@lru_cache(maxsize=4)
def _matcher(topic_text: str) -> TopicMatcher:
    """Compiled once per worker process and topic."""
    return TopicMatcher(parse_topic(yaml.safe_load(topic_text)))


# --- where the work runs ----------------------------------------------------------


class InlineRunner:
    """One worker: the writer's own process (no pickling, easiest to debug)."""

    workers = 1

    def submit(self, function: Callable, *args) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def close(self) -> None:
        pass


class PoolRunner:
    """A local process pool. Its workers are forked from the fork server the crawl's pool uses
    (pipelines/workers/pool.py), which has loaded the extraction code and models once
    (pipelines/workers/preload.py): they start warm, and share nothing with the writer's archive
    connection. They ignore Ctrl-C, which reaches the terminal's whole process group: the
    writer stops them, after recording how far it got."""

    def __init__(self, workers: int):
        self.workers = workers
        context = get_context(START_METHOD)
        context.set_forkserver_preload(PRELOAD)
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts)

    def submit(self, function: Callable, *args) -> Future:
        return self.pool.submit(function, *args)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskRunner:
    """A Dask distributed cluster, by its scheduler's address (tcp://host:8786)."""

    CONNECT_TIMEOUT = "10s"  # a scheduler that is up answers in well under a second

    def __init__(self, address: str):
        from distributed import Client

        self.client = Client(address, timeout=self.CONNECT_TIMEOUT)
        self.workers = max(1, len(self.client.scheduler_info()["workers"]))

    def submit(self, function: Callable, *args):
        return self.client.submit(function, *args, pure=False)

    def close(self) -> None:
        self.client.close()


def runner_for(workers: int | None, scheduler: str | None):
    """Dask when a scheduler is given; else a pool of `workers` processes (default: one per
    CPU), or the writer's own process for one worker."""
    if scheduler:
        return DaskRunner(scheduler)
    workers = workers or os.cpu_count() or 1
    return InlineRunner() if workers == 1 else PoolRunner(workers)


# --- the writer's loop ------------------------------------------------------------


def run_batches(
    jobs: Iterable[Job],
    runner,
    topic_text: str,
    write: Callable[[list[tuple[Job, Outcome]]], None],
    thresholds: Thresholds,
    batch_size: int | None = None,
) -> None:
    """Analyse the jobs on the runner and hand each batch, in input order with its outcomes,
    to `write`. `jobs` is consumed lazily, batch by batch, so that each batch's boilerplate
    is read after the batch before the previous one was written."""
    pending: deque = deque()
    reading = _Reading(jobs)
    for batch in _submitted(reading, runner, topic_text, thresholds, batch_size or BATCH_SIZE):
        pending.append(batch)
        if len(pending) >= IN_FLIGHT:
            write(_collected(*pending.popleft()))
    while pending:
        write(_collected(*pending.popleft()))
    reading.raise_failure()


def _submitted(
    jobs: Iterable[Job], runner, topic_text: str, thresholds: Thresholds, batch_size: int
) -> Iterator[tuple[list, list]]:
    """Batches of jobs with the futures of their chunks. Each chunk goes to a worker as soon as
    it is read, not when its batch is full: in a mostly off-topic file a batch of pages that pass
    the prefilter takes most of the file to fill, and the workers would idle until then."""
    iterator = iter(jobs)
    while True:
        batch, futures = [], []
        while len(batch) < batch_size and (chunk := list(islice(iterator, min(CHUNK_SIZE, batch_size - len(batch))))):
            batch.extend(chunk)
            futures.append(_submit(runner, chunk, topic_text, thresholds))
        if not batch:
            return
        yield batch, futures


class _Reading:
    """The jobs, until reading them fails: what was read before the failure is still
    analysed and written, then the failure is raised."""

    def __init__(self, jobs: Iterable[Job]):
        self.jobs, self.failure = jobs, None

    def __iter__(self) -> Iterator[Job]:
        try:
            yield from self.jobs
        except Exception as error:  # raised again by raise_failure() once the rest is stored
            self.failure = error

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


def _submit(runner, chunk: list[Job], topic_text: str, thresholds: Thresholds):
    return runner.submit(analyse_chunk, [j.page for j in chunk], [j.boilerplate for j in chunk], topic_text, thresholds)


def _collected(batch: list[Job], futures: list) -> list[tuple[Job, Outcome]]:
    outcomes = [outcome for future in futures for outcome in future.result()]
    return list(zip(batch, outcomes))
