"""Give a request's database connection back to the pool as soon as its response is built, not when the response
has been sent (Django's request_finished, under ASGI).

Why: under uvicorn every sync view of a worker runs on one thread. A request keeps its pooled connection until
request_finished, which Django sends after the body went out and which needs that same thread; under a burst of
thousands of clients the thread keeps taking new views while finished ones wait to be closed, the pool (DB_POOL_MAX)
runs dry, and the thread then blocks in the pool's getconn: nothing can be given back, and after the pool's
timeout (10 s) the request fails with a 500 (seen with 10,000 clients in ``bench_collect``).

Only pooled connections whose age has run out (CONN_MAX_AGE 0, the pool's setting) are given back; persistent
connections stay, and a connection inside a transaction (a test's) is left alone. A streaming response may still
read the database while it is sent: it is left to request_finished."""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.db import connections

from oa_platform.hybrid_middleware import HybridMiddleware


def release_pooled_connections() -> None:
    """Give this request's pooled connections back (on the thread that holds them): those whose age has run out,
    as close_if_unusable_or_obsolete would, without its autocommit check, which opens a connection again (and a
    test without database access refuses that)."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if (
            "pool" in connection.settings_dict.get("OPTIONS", {})
            and connection.connection is not None
            and not connection.in_atomic_block
            and connection.close_at is not None
            and now >= connection.close_at
        ):
            connection.close()


class DbReleaseMiddleware(HybridMiddleware):
    def __init__(self, get_response):
        self._set_mode(get_response)

    def _call(self, request):
        response = self.get_response(request)
        if not getattr(response, "streaming", False):
            release_pooled_connections()
        return response

    async def _acall(self, request):
        response = await self.get_response(request)
        if not getattr(response, "streaming", False):
            # the request's own sync thread (thread-sensitive, per request under ASGI): where its connection lives
            await sync_to_async(release_pooled_connections, thread_sensitive=True)()
        return response
