"""At most settings.HTTP_CONCURRENCY requests of a server process run Django's code at once
(oa_platform.asgi_limit); the others wait in the event loop rather than on threads holding database connections."""

from __future__ import annotations

import asyncio

from django.core.handlers.asgi import ASGIHandler

from oa_platform.asgi_limit import BoundedASGIHandler


class _Request:
    def __init__(self, path: str):
        self.path = path


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
        return await asyncio.gather(*(handler.run_get_response(_Request(f"/f/{i}/")) for i in range(requests)))

    assert [r.path for r in asyncio.run(burst())] == [f"/f/{i}/" for i in range(requests)]
    return peak


def test_a_burst_enters_django_so_many_at_a_time(settings, monkeypatch):
    settings.HTTP_CONCURRENCY = 3
    assert _peak_inside(monkeypatch, 20) == 3


def test_no_bound_when_set_to_zero(settings, monkeypatch):
    settings.HTTP_CONCURRENCY = 0
    assert _peak_inside(monkeypatch, 20) == 20


def _finish_order(settings, monkeypatch, staff_places: int) -> list[str]:
    """20 citizens' requests queued first, then two of the console; 2 places for the rest."""
    settings.HTTP_CONCURRENCY = 2
    settings.HTTP_STAFF_CONCURRENCY = staff_places
    finished: list[str] = []

    async def slow_response(self, request):
        await asyncio.sleep(0.02)
        finished.append(request.path)
        return request

    monkeypatch.setattr(ASGIHandler, "run_get_response", slow_response)
    handler = BoundedASGIHandler()

    async def burst_then_staff():
        citizens = [asyncio.ensure_future(handler.run_get_response(_Request(f"/f/{i}/"))) for i in range(20)]
        await asyncio.sleep(0)  # the burst is in and queued first
        staff = [handler.run_get_response(_Request(path)) for path in ("/staff/a/forms/1/live/", "/admin/")]
        await asyncio.gather(*staff, *citizens)

    asyncio.run(burst_then_staff())
    assert len(finished) == 22
    return finished


def test_the_staff_console_has_places_of_its_own_during_a_burst(settings, monkeypatch):
    finished = _finish_order(settings, monkeypatch, staff_places=1)
    # one at a time in their own lane: done with the burst's first rounds, not after its 10 rounds of 2
    assert finished.index("/staff/a/forms/1/live/") <= 2 and finished.index("/admin/") <= 5


def test_without_the_lane_the_console_waits_behind_the_burst(settings, monkeypatch):
    finished = _finish_order(settings, monkeypatch, staff_places=0)
    assert finished.index("/staff/a/forms/1/live/") >= 20


def test_one_handler_serves_from_one_event_loop_after_another(settings, monkeypatch):
    # a burst that waited on one loop (its places bound to it), then another loop (the next test server): no error
    settings.HTTP_CONCURRENCY = 1
    settings.HTTP_STAFF_CONCURRENCY = 1

    async def slow_response(self, request):
        await asyncio.sleep(0.001)
        return request

    monkeypatch.setattr(ASGIHandler, "run_get_response", slow_response)
    handler = BoundedASGIHandler()

    async def burst():
        paths = ["/f/1/", "/f/2/", "/staff/a/", "/staff/b/"]
        return [r.path for r in await asyncio.gather(*(handler.run_get_response(_Request(p)) for p in paths))]

    assert asyncio.run(burst()) == asyncio.run(burst()) == ["/f/1/", "/f/2/", "/staff/a/", "/staff/b/"]
