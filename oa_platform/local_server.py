"""The production-style server the benchmarks start on this machine (uvicorn on loopback), a free port, and the
CPU a load run cost the server and PostgreSQL."""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from pathlib import Path


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


def cpu_seconds(root_pid: int) -> dict[str, float]:
    """CPU time (user + system, seconds) used so far by the process ``root_pid`` with its descendants ("server")
    and by every PostgreSQL process on this machine ("postgres"), from Linux's /proc; {} elsewhere. Take it before
    and after a load run: the difference is that run's CPU (processes that exit in between are not counted)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[str, int, int]] = {}  # pid -> (name, parent pid, ticks)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (name) state ppid ..." where the name may hold spaces and parentheses
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    children: dict[int, list[int]] = {}
    for pid, (_name, ppid, _ticks) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = set(), [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in tree:
            tree.add(pid)
            todo.extend(children.get(pid, ()))
    return {
        "server": sum(stats[pid][2] for pid in tree) / tick,
        "postgres": sum(ticks for name, _ppid, ticks in stats.values() if name == "postgres") / tick,
    }
