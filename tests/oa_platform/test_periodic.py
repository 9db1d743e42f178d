"""The one lock of periodic jobs (oa_platform.periodic): two concurrent runs of a job do one unit of work, and
every job of the beat schedule takes it."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from oa_platform.celery import app
from oa_platform.periodic import SKIPPED, advisory_key, job_lock, periodic_job

pytestmark = pytest.mark.django_db

WAIT_S = 10


def _in_thread(target) -> threading.Thread:
    """Run ``target`` in another thread, with its own database connection (closed at the end)."""

    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_two_concurrent_runs_of_one_job_do_one_unit_of_work():
    units = []
    started, release = threading.Event(), threading.Event()

    @periodic_job("test.slow-job")
    def slow_job() -> dict:
        units.append(1)
        started.set()
        release.wait(WAIT_S)
        return {"done": 1}

    # given a run in progress in another worker
    results = {}
    first = _in_thread(lambda: results.setdefault("first", slow_job()))
    assert started.wait(WAIT_S)
    # when a second run starts meanwhile
    second = slow_job()
    release.set()
    first.join(WAIT_S)
    # then it does nothing, and the first finished its unit of work alone
    assert second == SKIPPED
    assert results["first"] == {"done": 1}
    assert units == [1]
    # once the first is done, the next tick runs again
    assert slow_job() == {"done": 1}
    assert units == [1, 1]


def test_two_runs_racing_from_the_start_do_one_unit_of_work():
    units = []
    barrier = threading.Barrier(2)
    release = threading.Event()

    @periodic_job("test.race-job")
    def job() -> dict:
        units.append(1)
        release.wait(WAIT_S)
        return {"done": 1}

    results = []
    one_back = threading.Event()

    def run():
        barrier.wait(WAIT_S)
        results.append(job())
        one_back.set()

    threads = [_in_thread(run), _in_thread(run)]
    # the winner waits inside the job until the loser has returned (woken by an event, not by polling: a timed
    # wait that must expire can stall under faketime, whose clock the kernel's timers do not follow)
    assert one_back.wait(WAIT_S)
    release.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert sorted(map(str, results)) == sorted(map(str, [{"done": 1}, SKIPPED]))
    assert units == [1]


def test_a_job_that_fails_releases_its_lock():
    @periodic_job("test.failing-job")
    def job() -> dict:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        job()
    with job_lock("test.failing-job") as got:
        assert got


def test_different_jobs_do_not_block_each_other():
    assert advisory_key("a") != advisory_key("b")
    assert advisory_key("a") == advisory_key("a")
    with job_lock("test.job-a") as got_a, job_lock("test.job-b") as got_b:
        assert got_a and got_b


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_job_takes_the_one_lock(entry):
    """A beat tick that finds the previous tick of its job still running does nothing."""
    app.loader.import_default_modules()
    task_name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    held, release = threading.Event(), threading.Event()

    def hold():
        with job_lock(task_name) as got:
            assert got
            held.set()
            release.wait(WAIT_S)

    holder = _in_thread(hold)
    assert held.wait(WAIT_S)
    try:
        assert app.tasks[task_name].apply().get() == SKIPPED
    finally:
        release.set()
        holder.join(WAIT_S)
