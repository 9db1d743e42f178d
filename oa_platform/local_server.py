"""The production-style server the benchmarks start on this machine (uvicorn on loopback), and a free port."""

from __future__ import annotations

import socket
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(port: int, *, workers: int, extra: tuple[str, ...] = ()) -> list[str]:
    """uvicorn serving the ASGI application on 127.0.0.1:``port`` with ``workers`` processes, no access log."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "oa_platform.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        *extra,
    ]


def wait_until_serving(port: int, *, timeout: float = 30) -> None:
    """Return once /healthz answers on ``port``; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")
