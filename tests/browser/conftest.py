"""A real ASGI server (uvicorn, HTTP + WebSockets) on a free loopback port, in a thread of the test process.

A thread rather than a subprocess so it shares pytest-django's test database on every backend, including
SQLite's in-memory one; tests that use it need ``django_db(transaction=True)`` so their rows are committed.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from oa_platform.local_server import free_port

# Bounded wait for the server to listen.
STARTUP_TIMEOUT_S = 10
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def asgi_server(transactional_db):
    import uvicorn
    from django.conf import settings
    from django.db import connections

    from oa_platform.asgi import application

    # The server's worker threads must not keep connections open past a request: the test database is dropped
    # at the end of the session, and PostgreSQL refuses that while sessions are still attached.
    db_settings = connections.settings["default"]
    saved_max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    port = free_port()
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws_max_size=settings.WS_MAX_FRAME * 2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=STARTUP_TIMEOUT_S)
    db_settings["CONN_MAX_AGE"] = saved_max_age


@pytest.fixture
def browser():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still plain sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield instance
            instance.close()
            # The test's ORM calls ran under Playwright's event loop, in a context of their own: close that
            # context's connection here, or it stays checked out of the pool and PostgreSQL refuses to drop the
            # test database at the end of the session ("being accessed by other users").
            connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
