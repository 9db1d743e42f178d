"""Django's ASGI handler with a bound on the requests of this process that run Django's code at once
(settings.HTTP_CONCURRENCY, by default DB_POOL_MAX, the database pool less the staff lane); the others wait in the
event loop, which costs a few hundred bytes each, not a thread and a database connection.

Why: Django runs each request's sync code on a thread of its own (one per request context). Under a burst of
thousands of clients, thousands of threads then ran at once, all waiting for the pool's 8 connections; those that
waited more than the pool's timeout (10 s) failed with a 500 (bench_collect, 10,000 clients: 3,840 of them). The
bound is taken after the request's body was read (a slow upload holds no place) and given back once the
response is built, before it is sent (oa_platform.db_release gave the connection back just before).

The staff console and the admin (settings.HTTP_STAFF_PATHS) have places of their own
(settings.HTTP_STAFF_CONCURRENCY, with as many more database connections): during a citizens' burst an
operator's page, and the live results it fetches, wait for staff only."""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

# The event loop of this server process, recorded on its first request (oa_platform.live hands pushes to it).
_server_loop: asyncio.AbstractEventLoop | None = None


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop serving this process's requests; None outside an ASGI server (tests, workers, commands)."""
    return _server_loop


class BoundedASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self._staff_paths = tuple(settings.HTTP_STAFF_PATHS)
        # (everyone's places, the staff's) per event loop: a semaphore that once waited is bound to its loop, and
        # one process may serve from several loops in turn (the test servers, each on a thread of its own).
        self._lanes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _places_for(self, request) -> asyncio.Semaphore | None:
        limit, staff = settings.HTTP_CONCURRENCY, settings.HTTP_STAFF_CONCURRENCY
        if limit <= 0:
            return None
        loop = asyncio.get_running_loop()
        lanes = self._lanes.get(loop)
        if lanes is None:
            everyone = asyncio.Semaphore(limit)
            lanes = self._lanes[loop] = (everyone, asyncio.Semaphore(staff) if staff > 0 else everyone)
        return lanes[1] if request.path.startswith(self._staff_paths) else lanes[0]

    async def __call__(self, scope, receive, send):
        global _server_loop
        if _server_loop is None:
            _server_loop = asyncio.get_running_loop()
        return await super().__call__(scope, receive, send)

    async def run_get_response(self, request):
        places = self._places_for(request)
        if places is None:
            return await super().run_get_response(request)
        async with places:
            return await super().run_get_response(request)


def bounded_asgi_application() -> BoundedASGIHandler:
    """What django.core.asgi.get_asgi_application does, with the bounded handler."""
    import django  # noqa: PLC0415 - set up here, as get_asgi_application does, after DJANGO_SETTINGS_MODULE is set

    django.setup(set_prefix=False)
    return BoundedASGIHandler()
