"""The one lock of periodic jobs: a beat job never overlaps itself (issue 13, "two locks for periodic jobs").

``@periodic_job("name")`` under ``@shared_task`` makes a run that finds the job already running return
``{"skipped": "locked"}`` at once, doing nothing. The lock is

- on PostgreSQL, a session advisory lock keyed by the job's name: released when the run ends, and by
  PostgreSQL itself when the worker's connection dies (a killed worker never leaves it held);
- otherwise (SQLite: the embedded single-process mode and the quick tests), a cache entry that expires on its
  own after ``ttl_s`` if the process dies.

Advisory locks belong to a database session: the same connection may take one twice, so two runs in one
thread are not kept apart (Celery runs one task at a time per connection; the embedded beat runs entries one
after another).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# Longer than any tick takes (a dispatcher tick claims at most a few notices): the cache lock of a process
# that died is free again after this.
DEFAULT_TTL_S = 300
SKIPPED = {"skipped": "locked"}


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock (the same in every process and release)."""
    return int.from_bytes(hashlib.blake2b(f"oa:periodic:{name}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def job_lock(name: str, *, ttl_s: int = DEFAULT_TTL_S) -> Iterator[bool]:
    """Try to take the lock of job ``name``; yields whether it was taken (never waits)."""
    if connection.vendor == "postgresql":
        key = advisory_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                except DatabaseError:  # the connection is gone, and the lock with it
                    logger.warning("periodic job %s: could not unlock (connection lost)", name)
        return
    cache_key = f"oa:periodic:{name}"
    got = cache.add(cache_key, 1, timeout=ttl_s)
    try:
        yield got
    finally:
        if got:
            cache.delete(cache_key)


def periodic_job(name: str, *, ttl_s: int = DEFAULT_TTL_S) -> Callable:
    """Decorator of a beat job's function: one run at a time; a run that finds it locked returns SKIPPED."""

    def wrap(func: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(func)
        def run(*args, **kwargs) -> dict:
            with job_lock(name, ttl_s=ttl_s) as got:
                if not got:
                    return dict(SKIPPED)
                return func(*args, **kwargs)

        run.periodic_lock = name
        return run

    return wrap
