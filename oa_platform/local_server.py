"""The production-style server the benchmarks start on this machine (uvicorn on loopback), a free port, the CPU a
load run cost the server and PostgreSQL, and one wrk run measured with both (its latency percentiles in JSON)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
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


# Appended to every wrk script: the run's figures as one JSON line (wrk's own summary is text only).
LUA_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50_ms": %.3f, "p99_ms": %.3f}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk_run(wrk: str, args: list[str], server_pid: int | None = None) -> dict:
    """Run ``wrk`` (its script must end with LUA_REPORT) and return its figures: requests, duration_us, errors,
    non2xx, p50_ms, p99_ms, rps and, with ``server_pid``, the CPU milliseconds per request of the server processes
    (web_cpu_ms) and of PostgreSQL (db_cpu_ms: every postgres process of the machine). RuntimeError when wrk
    printed no report."""
    before = cpu_seconds(server_pid) if server_pid else {}
    out = subprocess.run([wrk, *args], capture_output=True, text=True, timeout=600).stdout
    after = cpu_seconds(server_pid) if server_pid else {}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"wrk printed no report:\n{out}")
    row = json.loads(lines[-1])
    row["rps"] = round(row["requests"] / (row["duration_us"] / 1e6), 1) if row["duration_us"] else 0.0
    for key, name in (("web_cpu_ms", "server"), ("db_cpu_ms", "postgres")):
        if name in before and row["requests"]:
            row[key] = round((after[name] - before[name]) * 1000 / row["requests"], 3)
    return row


def wrk_table(rows: dict[str, dict], *, width: int = 30) -> list[str]:
    """The lines of a table of wrk_run figures, one row per endpoint name."""
    lines = [
        f"{'endpoint':<{width}}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'non-2xx':>9}"
        f"{'web CPU ms/req':>16}{'db CPU ms/req':>15}"
    ]
    for name, row in rows.items():
        web, db = (f"{row[k]:.2f}" if row.get(k) is not None else "n/a" for k in ("web_cpu_ms", "db_cpu_ms"))
        lines.append(
            f"{name:<{width}}{row['rps']:>10}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
            f"{row['errors']:>8}{row['non2xx']:>9}{web:>16}{db:>15}"
        )
    return lines
