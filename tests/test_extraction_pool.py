"""The extraction pool: work runs in real worker processes, and a page that raises or kills its
worker becomes a reject with its reason while the other pages go on."""

import asyncio
import os
from pathlib import Path

import pytest

from pipelines.core.analysis import Rejected
from pipelines.workers.pool import ExtractionPool


# Run in the workers: module-level so that they can be pickled by name.
def process_id(_: object = None) -> int:
    return os.getpid()


def die() -> None:
    os._exit(70)  # as a segfault in lxml would: no exception, no answer, the process is gone


def die_with(offset: int) -> None:
    """die(), for a pool with shared arguments."""
    os._exit(70)


def die_once(marker: str, answer: str) -> str:
    """Kills its worker the first time any worker runs it (the marker file says so), then answers."""
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        return answer
    os._exit(70)


def shifted(value: int, offset: int) -> int:
    return value + offset


def shifted_once_dead(marker: str, value: int, offset: int) -> int:
    return int(die_once(marker, str(value + offset)))


def raise_error(message: str) -> None:
    raise ValueError(message)


def reject(reason: str) -> None:
    raise Rejected("extract", reason)


def run(pool: ExtractionPool, *calls: tuple) -> list:
    """Each call awaited in the pool at the same time; answers (or exceptions) in call order."""

    async def main():
        pool.start()
        try:
            return await asyncio.gather(*(pool.run(*call) for call in calls), return_exceptions=True)
        finally:
            pool.close()

    return asyncio.run(main())


def test_pool_runs_the_work_in_other_processes():
    answers = run(ExtractionPool(2), *[(process_id, n) for n in range(6)])
    assert os.getpid() not in answers


def test_pool_with_no_workers_runs_the_work_in_this_process():
    assert run(ExtractionPool(0), (process_id,)) == [os.getpid()]


@pytest.mark.parametrize("workers", [0, 2])
def test_pool_reject_from_the_work_keeps_its_stage_and_reason(workers):
    (answer,) = run(ExtractionPool(workers), (reject, "no article text found"))
    assert isinstance(answer, Rejected)
    assert (answer.stage, answer.reason) == ("extract", "no article text found")


@pytest.mark.parametrize("workers", [0, 2])
def test_pool_error_in_the_work_is_a_reject_with_its_type_and_message(workers):
    (answer,) = run(ExtractionPool(workers), (raise_error, "Document is empty"))
    assert isinstance(answer, Rejected)
    assert answer.reason == "extraction failed (ValueError: Document is empty)"


@pytest.mark.parametrize("workers", [0, 2])
def test_pool_shared_arguments_reach_every_call(workers):
    """What is fixed for the crawl (the topic matcher) goes to each worker once, as keywords."""
    answers = run(ExtractionPool(workers, shared={"offset": 100}), *[(shifted, n) for n in range(6)])
    assert answers == [100, 101, 102, 103, 104, 105]


def test_pool_shared_arguments_reach_a_replaced_worker(tmp_path):
    pool = ExtractionPool(2, shared={"offset": 100})
    answers = run(pool, (shifted_once_dead, str(tmp_path / "died"), 7), *[(shifted, n) for n in range(5)])
    assert answers == [107, 100, 101, 102, 103, 104]
    assert pool.replaced == 1


def test_pool_page_that_kills_every_worker_is_a_reject_and_the_others_are_answered():
    pool = ExtractionPool(2)
    answers = run(pool, (die,), *[(process_id, n) for n in range(5)])
    assert isinstance(answers[0], Rejected)
    assert answers[0].reason == "extraction crashed its worker process twice (BrokenProcessPool)"
    assert all(isinstance(answer, int) for answer in answers[1:])
    assert pool.replaced >= 1


def test_pool_worker_killed_once_is_replaced_and_its_page_answered(tmp_path):
    pool = ExtractionPool(2)
    answers = run(pool, (die_once, str(tmp_path / "died"), "answered"), *[(process_id, n) for n in range(5)])
    assert answers[0] == "answered"
    assert all(isinstance(answer, int) for answer in answers[1:])
    assert pool.replaced == 1
    assert (tmp_path / "died").exists()


def test_pool_refuses_a_negative_worker_count():
    with pytest.raises(ValueError, match="EXTRACTION_WORKERS must be 0"):
        ExtractionPool(-1)


def test_pool_submitted_work_that_kills_its_worker_says_so_and_the_pool_recovers():
    """The batches' side (import, reextract): a future whose worker died raises what died()
    knows; recover() replaces the pool once, however many futures saw it broken; alone() runs the
    work in a process of its own, whose death is the work's."""
    pool = ExtractionPool(2, shared={"offset": 100})
    pool.start()
    try:
        dead, *others = [pool.submit(die_with)] + [pool.submit(shifted, n) for n in range(3)]
        with pytest.raises(Exception) as raised:
            dead.result()
        assert pool.died(raised.value)
        for future in (dead, *others):
            pool.recover(future)
        assert pool.replaced == 1
        assert pool.submit(shifted, 1).result() == 101
        with pytest.raises(Exception) as again:
            pool.alone(die_with).result()
        assert pool.died(again.value)
        assert pool.alone(shifted, 2).result() == 102
    finally:
        pool.close()


def test_pool_error_in_submitted_work_is_the_work_s_not_a_death():
    pool = ExtractionPool(0)
    with pytest.raises(ValueError) as raised:
        pool.submit(raise_error, "Document is empty").result()
    assert not pool.died(raised.value)
