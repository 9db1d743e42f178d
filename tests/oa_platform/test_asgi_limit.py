"""At most settings.HTTP_CONCURRENCY requests of a server process run Django's code at once
(oa_platform.asgi_limit); the others wait in the event loop rather than on threads holding database connections."""

from __future__ import annotations

import asyncio

from django.core.handlers.asgi import ASGIHandler

from oa_platform.asgi_limit import BoundedASGIHandler


def _peak_inside(monkeypatch, requests: int) -> int:
    inside, peak = 0, 0

    async def slow_response(self, request):
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        return request

    monkeypatch.setattr(ASGIHandler, "run_get_response", slow_response)
    handler = BoundedASGIHandler()

    async def burst():
        return await asyncio.gather(*(handler.run_get_response(i) for i in range(requests)))

    assert asyncio.run(burst()) == list(range(requests))
    return peak


def test_a_burst_enters_django_so_many_at_a_time(settings, monkeypatch):
    settings.HTTP_CONCURRENCY = 3
    assert _peak_inside(monkeypatch, 20) == 3


def test_no_bound_when_set_to_zero(settings, monkeypatch):
    settings.HTTP_CONCURRENCY = 0
    assert _peak_inside(monkeypatch, 20) == 20
