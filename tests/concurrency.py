"""Run one call from several threads released at the same instant, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def all_at_once(call: Callable[[], Any], threads: int, *, timeout: float = 60) -> tuple[list, list[Exception]]:
    """Start ``threads`` threads that wait at a barrier, then each run ``call()``. Returns the results (in the
    order the calls finished) and the exceptions they raised. Each thread closes its database connections."""
    barrier = threading.Barrier(threads)
    results: list = []
    errors: list[Exception] = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on them
            errors.append(exc)
        finally:
            connections.close_all()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=timeout)
    return results, errors
