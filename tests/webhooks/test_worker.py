"""The production path with a real Celery worker: the webhook only stores and enqueues (fast ack), the
worker runs the chat and the Zalo send; 10 concurrent deliveries of one event still give one reply."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from oa_platform.celery import app
from oa_platform.models import Message, WebhookEvent
from tests.webhooks.conftest import make_channels, zalo_event, zalo_mac

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
REPLAYS = 10
ACK_LIMIT_S = 2.0  # Zalo's acknowledgement limit


def _db_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _worker_idle() -> bool:
    inspect = app.control.inspect(timeout=0.5)
    busy = [*(inspect.active() or {}).values(), *(inspect.reserved() or {}).values()]
    with app.connection_for_write() as conn:
        queued = conn.default_channel.client.llen("celery")
    return queued == 0 and not any(busy)


@pytest.fixture
def worker(tmp_path):
    app.conf.task_always_eager = False
    app.control.purge()
    env = {**os.environ, "DATABASE_URL": _db_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "0"}
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [CELERY, "-A", "oa_platform", "worker", "-l", "info", "-c", "4", "-n", "hooks@%h", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(lambda: app.control.ping(timeout=0.5), 60, "the worker")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        app.conf.task_always_eager = True


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_through_a_real_worker(live_server, tenant_a, fake_api, worker):
    # given
    make_channels(tenant_a.account, fake_api.url)
    body, ts = zalo_event("xin chào", msg_id="worker-1")
    headers = {"X-ZEvent-Signature": zalo_mac(body, ts), "Content-Type": "application/json"}
    url = f"{live_server.url}/webhooks/zalo/agency-a/"
    barrier = threading.Barrier(REPLAYS)
    timings: list[tuple[int, float]] = []

    def deliver():
        barrier.wait(timeout=10)
        start = time.monotonic()
        response = httpx.post(url, content=body, headers=headers, timeout=30)
        timings.append((response.status_code, time.monotonic() - start))

    # when 10 deliveries of one event arrive at once
    threads = [threading.Thread(target=deliver) for _ in range(REPLAYS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then each is acknowledged quickly, before the worker's chat and send
    assert [status for status, _ in timings] == [200] * REPLAYS
    assert max(elapsed for _, elapsed in timings) < ACK_LIMIT_S
    # and the worker sends exactly one reply
    reply = _wait(lambda: Message.objects.filter(direction="out", delivery_status="sent").first(), 60, "the reply")
    _wait(lambda: WebhookEvent.objects.filter(processed_at__isnull=False).exists(), 30, "the event processed")
    _wait(_worker_idle, 30, "the worker to run every queued task")  # a stray duplicate task must not send
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert fake_api.sent == [{"channel": "zalo", "to": "u-100", "text": reply.text}]
