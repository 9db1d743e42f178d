"""The production path with a real Celery worker: the webhook only stores and enqueues (fast ack), the
worker runs the chat and the Zalo send; 10 concurrent deliveries of one event still give one reply."""

from __future__ import annotations

import time

import httpx
import pytest

from oa_platform.celery import app
from oa_platform.models import Message, WebhookEvent
from tests.concurrency import all_at_once
from tests.webhooks.conftest import make_channels, zalo_event, zalo_mac
from tests.workers import start_worker, stop, wait_for

REPLAYS = 10
ACK_LIMIT_S = 2.0  # Zalo's acknowledgement limit


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
    proc = start_worker("hooks", tmp_path / "worker.log", concurrency=4)
    try:
        wait_for(lambda: app.control.ping(timeout=0.5), 60, "the worker")
        yield proc
    finally:
        stop(proc)
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

    def deliver():
        start = time.monotonic()
        response = httpx.post(url, content=body, headers=headers, timeout=30)
        return response.status_code, time.monotonic() - start

    # when 10 deliveries of one event arrive at once
    timings, errors = all_at_once(deliver, REPLAYS)
    # then each is acknowledged quickly, before the worker's chat and send
    assert errors == []
    assert [status for status, _ in timings] == [200] * REPLAYS
    assert max(elapsed for _, elapsed in timings) < ACK_LIMIT_S
    # and the worker sends exactly one reply
    reply = wait_for(lambda: Message.objects.filter(direction="out", delivery_status="sent").first(), 60, "the reply")
    wait_for(lambda: WebhookEvent.objects.filter(processed_at__isnull=False).exists(), 30, "the event processed")
    wait_for(_worker_idle, 30, "the worker to run every queued task")  # a stray duplicate task must not send
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1
    assert fake_api.sent == [{"channel": "zalo", "to": "u-100", "text": reply.text}]
