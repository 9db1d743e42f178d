"""Real Celery worker processes for the tests that need one: started against the test database, waited for,
stopped with their whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))


def db_url() -> str:
    """The test database as a URL for a worker process."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(name: str, log: Path, *, concurrency: int, env: dict | None = None) -> subprocess.Popen:
    """A worker on the test database and Redis, tasks not eager, in its own process group (a SIGKILL reaches
    its pool children too)."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        **(env or {}),
    }
    return subprocess.Popen(
        [CELERY, "-A", "oa_platform", "worker", "-l", "info", "-c", str(concurrency), "-n", f"{name}@%h"]
        + ["--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float, what: str, details=lambda: ""):
    """The first true value of ``predicate()`` (polled every 0.2 s), else AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} {details()}".rstrip())


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Signal the process group; SIGKILL it when it has not ended 15 s later."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
