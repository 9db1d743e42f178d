"""Helpers shared by the broadcast benchmarks: worker processes, their peak memory, guards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def require_bench_database() -> None:
    """Benchmarks truncate tables: refuse any database whose name does not say it is for benchmarks."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or "bench" not in db["NAME"]:
        raise CommandError("Run against a PostgreSQL database named *bench* (e.g. DATABASE_URL=.../oa_bench).")
    if not settings.REDIS_URL:
        raise CommandError("REDIS_URL is needed (Celery broker, channel layer, shared rate limit).")


def start(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def group_peak_rss_mb(pgid: int) -> float:
    """Largest peak RSS (VmHWM) among the live processes of a process group, in MB (Linux /proc)."""
    peak = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return round(peak / 1024, 1)
