"""Scale-out for `clippings import` and `clippings reextract`: pages are analysed (analyse_page)
in chunks on the extraction pool (pipelines/workers/pool.py: in this process, local worker
processes or a Dask cluster), and ONE writer, the calling process, stores the results in batches.

The writer reads each page's boilerplate (Archive.boilerplate) and sends it with the page.
At most IN_FLIGHT batches are out at a time, so memory stays flat however long the input;
a batch is written in input order, and a page whose outlet's boilerplate changed while it was
out (an earlier page of the same batch made a line cross the threshold) is analysed again by
the writer (pipelines/store/pages.py, PageWriter.reanalysed). The archive is thus the same with
0, 2 or 20 workers: the one a single process reading the pages in order would build.

A chunk whose worker died is tried again page by page, each alone in a fresh process; a page
that kills that one too is a failed page (Failed, with the pool's CRASHED), and the rest go on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice

from pipelines.core.analysis import Failed, Outcome, analyse_one
from pipelines.core.items import FetchedPage
from pipelines.core.relevance import TopicMatcher
from pipelines.core.thresholds import Thresholds
from pipelines.workers.pool import CRASHED, ExtractionPool

BATCH_SIZE = 64  # pages per write transaction
CHUNK_SIZE = 8  # pages per task sent to a worker
IN_FLIGHT = 2  # batches out at once (one being written, one being analysed)


@dataclass
class Job:
    """One page to analyse, with the boilerplate the writer read for its outlet."""

    page: FetchedPage
    boilerplate: frozenset[str]


def analyse_chunk(
    pages: list[FetchedPage], boilerplates: list[frozenset[str]], matcher: TopicMatcher, thresholds: Thresholds
) -> list[Outcome]:
    """Runs in a worker: each page analysed, or its reject, or its failure. `matcher` and
    `thresholds` are the pool's shared arguments (pipelines.workers.pool.analysis_arguments)."""
    return [analyse_one(page, matcher, thresholds, boilerplate) for page, boilerplate in zip(pages, boilerplates)]


def run_batches(
    jobs: Iterable[Job], pool: ExtractionPool, write: Callable[[list[tuple[Job, Outcome]]], None], batch_size: int | None = None
) -> None:
    """Analyse the jobs on the pool (started, with analysis_arguments as its shared arguments)
    and hand each batch, in input order with its outcomes, to `write`. `jobs` is consumed
    lazily, batch by batch, so that each batch's boilerplate is read after the batch before the
    previous one was written."""
    pending: deque = deque()
    reading = _Reading(jobs)
    for batch in _submitted(reading, pool, batch_size or BATCH_SIZE):
        pending.append(batch)
        if len(pending) >= IN_FLIGHT:
            write(_collected(pool, *pending.popleft()))
    while pending:
        write(_collected(pool, *pending.popleft()))
    reading.raise_failure()


def _submitted(jobs: Iterable[Job], pool: ExtractionPool, batch_size: int) -> Iterator[tuple[list, list]]:
    """Batches of jobs with their chunks and the chunks' futures. Each chunk goes to a worker as
    soon as it is read, not when its batch is full: in a mostly off-topic file a batch of pages
    that pass the prefilter takes most of the file to fill, and the workers would idle until then."""
    iterator = iter(jobs)
    while True:
        batch, chunks = [], []
        while len(batch) < batch_size and (chunk := list(islice(iterator, min(CHUNK_SIZE, batch_size - len(batch))))):
            batch.extend(chunk)
            chunks.append((chunk, pool.submit(analyse_chunk, *_arguments(chunk))))
        if not batch:
            return
        yield batch, chunks


def _arguments(chunk: list[Job]) -> tuple[list[FetchedPage], list[frozenset[str]]]:
    return [job.page for job in chunk], [job.boilerplate for job in chunk]


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


def _collected(pool: ExtractionPool, batch: list[Job], chunks: list[tuple[list[Job], Future]]) -> list[tuple[Job, Outcome]]:
    outcomes = [outcome for chunk, future in chunks for outcome in _outcomes(pool, chunk, future)]
    return list(zip(batch, outcomes))


def _outcomes(pool: ExtractionPool, chunk: list[Job], future: Future) -> list[Outcome]:
    """The chunk's outcomes; if its worker died, each page's, tried alone."""
    try:
        return future.result()
    except Exception as error:
        if not pool.died(error):
            raise
        pool.recover(future)
    return [_alone(pool, job) for job in chunk]


def _alone(pool: ExtractionPool, job: Job) -> Outcome:
    try:
        (outcome,) = pool.alone(analyse_chunk, *_arguments([job])).result()
        return outcome
    except Exception as error:
        if not pool.died(error):
            raise
        return Failed(job.page.url, CRASHED)
