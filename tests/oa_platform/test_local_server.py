import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oa_platform.local_server import cpu_seconds, wrk_table

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")

# Burns 0.6 s of CPU, then stays alive (idle) so that a snapshot still sees it.
_BURN = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\ntime.sleep(10)"


def _start(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def test_cpu_seconds_counts_the_servers_descendants_and_not_other_processes():
    # the "server" is a parent whose child does the work, as uvicorn's supervisor and its workers
    server = _start(f"import subprocess, sys; subprocess.run([sys.executable, '-c', {_BURN!r}])")
    bystander = _start(_BURN)
    try:
        time.sleep(0.3)
        before = cpu_seconds(server.pid)
        time.sleep(1.5)  # the child finishes burning and idles
        after = cpu_seconds(server.pid)
    finally:
        for p in (server, bystander):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert set(before) == {"server", "postgres"}
    burned = after["server"] - before["server"]
    # most of the child's 0.6 s falls between the snapshots; with the bystander's it would pass 0.9 s
    assert 0.2 <= burned <= 0.75, burned


def test_cpu_seconds_of_a_process_that_is_gone_is_zero():
    gone = _start("pass")
    gone.wait()
    assert cpu_seconds(gone.pid)["server"] == 0.0


def test_the_wrk_table_names_each_endpoint_and_says_when_cpu_was_not_measured():
    figures = {"requests": 10, "rps": 5.0, "p50_ms": 1.234, "p99_ms": 9.0, "errors": 0, "non2xx": 1}
    lines = wrk_table({"trivial": figures | {"web_cpu_ms": 2.0, "db_cpu_ms": 0.5}, "chat": figures}, width=12)
    assert lines[0].split()[:2] == ["endpoint", "req/s"]
    assert lines[1].split() == ["trivial", "5.0", "1.23", "9.00", "0", "1", "2.00", "0.50"]
    assert lines[2].split()[-2:] == ["n/a", "n/a"]
