"""Kill a real Celery worker (SIGKILL) in the middle of a fan-out, restart it, and check the at-most-once
effect on a provider that ignores the Idempotency-Key: one delivery per recipient, no recipient posted twice
(the one message in flight when the worker died is "unknown"), nothing stuck."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from broadcasts import fanout, sending
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice, idempotency_key
from broadcasts.services import settings_for
from oa_platform.celery import app
from oa_platform.models import ChannelConfig
from tests.broadcasts.conftest import approved, follower
from tests.fakes.fake_provider import FakeProvider
from tests.workers import start_worker, stop, wait_for


def _start_worker(name: str, log: Path):
    # short leases so a killed worker's chunks are taken over quickly
    return start_worker(name, log, concurrency=1, env={"BROADCASTS_LEASE_S": "3", "BROADCASTS_PENDING_REQUEUE_S": "5"})


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sigkill_worker_mid_fanout(tenant_a, tmp_path, monkeypatch):
    monkeypatch.setattr(sending, "LEASE_S", 3.0)
    monkeypatch.setattr(fanout, "PENDING_REQUEUE_S", 5.0)
    app.conf.task_always_eager = False
    app.control.purge()
    # slow enough that the kill lands mid-chunk; like many SMS gateways it ignores the Idempotency-Key
    provider = FakeProvider(delay=0.02, honour_keys=False).start()
    workers = []
    try:
        # given: 150 followers reached by SMS (2 chunks) and 300 in-app
        ChannelConfig.objects.create(
            account=tenant_a.account, kind="sms", api_base=provider.url, rate_per_s=500, burst=20, backoff_s=0.05
        )
        policy = settings_for(tenant_a.account)
        policy.phone_channel = BroadcastSettings.PHONE_SMS
        policy.save()
        sms = [follower(tenant_a.account, phone=f"+849{10000000 + i}") for i in range(150)]
        inapp = [follower(tenant_a.account) for _ in range(300)]
        notice = approved(tenant_a, audience_all=True)
        log = tmp_path / "worker.log"
        workers.append(_start_worker("first", log))
        wait_for(lambda: app.control.ping(timeout=0.5), 60, "the first worker")
        # when: the dispatcher runs, and the worker is killed while SMS are going out
        fanout.dispatcher_tick()
        wait_for(
            lambda: Delivery.objects.filter(notice=notice, channel="sms", status="sent").count() >= 20,
            60,
            "some SMS to be sent",
            lambda: list(Delivery.objects.exclude(last_error="").values_list("last_error", flat=True)[:3]),
        )
        stop(workers[0], signal.SIGKILL)
        sent_before_restart = Delivery.objects.filter(notice=notice, channel="sms", status="sent").count()
        assert sent_before_restart < len(sms), "the kill came too late to test anything"
        workers.append(_start_worker("second", log))

        def finished():
            fanout.dispatcher_tick()  # the beat's job: sweeps expired leases, finishes the notice
            return Notice.objects.get(pk=notice.pk).status == Notice.STATUS_SENT

        wait_for(finished, 120, "the notice to be sent after the restart")
    finally:
        for proc in workers:
            stop(proc)
        provider.stop()
        app.conf.task_always_eager = True
    # then: one delivery per recipient; nobody got the SMS twice; only the message in flight is unknown
    rows = list(Delivery.objects.filter(notice=notice).values_list("citizen_id", "status", "channel"))
    assert len(rows) == len({c for c, _s, _ch in rows}) == len(sms) + len(inapp)
    assert max(provider.posts.values()) == 1, [key for key, n in provider.posts.items() if n > 1]
    by_status = Counter(s for _c, s, ch in rows if ch == "sms")
    assert set(by_status) <= {"sent", "unknown"} and by_status["unknown"] <= 1, by_status
    assert {s for _c, s, ch in rows if ch == "inapp"} == {"sent"}
    sent_keys = {idempotency_key(notice.pk, c) for c, s, ch in rows if ch == "sms" and s == Delivery.STATUS_SENT}
    assert sent_keys <= set(provider.posts) and len(provider.posts) <= len(sms)
    assert not Chunk.objects.filter(notice=notice).exclude(status="done").exists()
    assert Chunk.objects.filter(notice=notice, attempts__gt=1).exists()  # a chunk really was taken over
