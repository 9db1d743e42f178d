"""Kill a real Celery worker (SIGKILL) in the middle of a fan-out, restart it, and check the exactly-once
effect: one delivery per recipient, at most one accepted send per idempotency key, nothing stuck."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from broadcasts import fanout
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice, ProviderConfig
from broadcasts.services import settings_for
from oa_platform.celery import app
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
    monkeypatch.setattr(fanout, "LEASE_S", 3.0)
    monkeypatch.setattr(fanout, "PENDING_REQUEUE_S", 5.0)
    app.conf.task_always_eager = False
    app.control.purge()
    provider = FakeProvider(delay=0.02).start()  # slow enough that the kill lands mid-chunk
    workers = []
    try:
        # given: 150 followers reached by SMS (2 chunks) and 300 in-app
        ProviderConfig.objects.create(
            account=tenant_a.account, kind="sms", base_url=provider.url, rate_per_s=500, burst=20, backoff_s=0.05
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
    # then: one delivery per recipient, all sent, at most one accepted send per idempotency key
    rows = list(Delivery.objects.filter(notice=notice).values_list("citizen_id", "status", "channel"))
    assert len(rows) == len({c for c, _s, _ch in rows}) == len(sms) + len(inapp)
    assert {s for _c, s, _ch in rows} == {"sent"}
    assert len(provider.successes) == len(sms)
    assert max(provider.successes.values()) == 1
    assert not Chunk.objects.filter(notice=notice).exclude(status="done").exists()
    assert Chunk.objects.filter(notice=notice, attempts__gt=1).exists()  # a chunk really was taken over
