"""A list sent by 2 real Celery worker processes on PostgreSQL + Redis, every chunk task delivered twice: each
follower gets exactly one in-app message, each phone-only person exactly one SMS through the fake provider."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from broadcasts.personal import dispatch, lists
from broadcasts.personal.models import Notification, RecipientList, StatusEvent
from broadcasts.services import Actor
from oa_platform.celery import app
from oa_platform.models import Message
from tests.factories import set_quiet_hours
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import approved_template, provider, web_person
from tests.workers import start_worker, stop, wait_for

FOLLOWERS = 40
PHONE_ONLY = 10


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_every_chunk_twice_send_each_message_once(tenant_a, tmp_path):
    app.conf.task_always_eager = False
    app.control.purge()
    set_quiet_hours(tenant_a.account, dt.time(0), dt.time(0))  # none: the workers run on the real clock
    approved_template(tenant_a)
    for n in range(FOLLOWERS):
        web_person(tenant_a.account, phone=f"+849100{n:05d}", external_id=f"w{n}")
    rows = [f"09100{n:05d},P{n},05/12,T" for n in range(FOLLOWERS + PHONE_ONLY)]
    workers = []
    with FakeProvider(delay=0.01) as sms:
        provider(tenant_a, "sms", sms.url, rate_per_s=200, burst=20)
        checked = lists.list_upload(
            account=tenant_a.account,
            actor=Actor(user=tenant_a.broadcaster),
            template_key="vaccination",
            fileobj=SimpleUploadedFile("l.csv", ("phone,name,date,place\n" + "\n".join(rows)).encode()),
            file_name="l.csv",
            max_bytes=1 << 20,
        )
        lists.list_submit(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
        try:
            workers = [start_worker(name, tmp_path / f"{name}.log", concurrency=1) for name in ("one", "two")]
            wait_for(lambda: len(app.control.ping(timeout=0.5) or []) >= 2, 60, "two workers")
            # when: approved (which enqueues the chunks once), then every range of 10 enqueued twice more
            lists.list_approve(recipient_list=checked, actor=Actor(user=tenant_a.approver))
            for first, last in dispatch.list_ranges(list_id=checked.pk, size=10) * 2:
                dispatch.send_list_chunk.delay(checked.pk, first, last)
            wait_for(
                lambda: RecipientList.objects.get(pk=checked.pk).status == RecipientList.STATUS_SENT,
                90,
                "the list to be sent",
                lambda: dict(Counter(Notification.objects.values_list("status", flat=True))),
            )
        finally:
            for worker in workers:
                stop(worker)
            app.conf.task_always_eager = True
        # what the phones receive: the provider keeps one message per idempotency key, as real ones do (an HTTP
        # attempt whose answer was lost is posted again with the same key; that is not a second message)
        received = dict(sms.successes)
    # then
    per_conversation = Counter(Message.objects.values_list("conversation_id", flat=True))
    assert len(per_conversation) == FOLLOWERS and set(per_conversation.values()) == {1}
    assert len(received) == PHONE_ONLY and set(received.values()) == {1}
    # and no notification was claimed twice: one "sending" step each, whoever ran its chunk
    sending = Counter(
        StatusEvent.objects.filter(notification__recipient_list=checked, status="sending").values_list(
            "notification_id", flat=True
        )
    )
    histories = {
        pk: list(StatusEvent.objects.filter(notification_id=pk).order_by("id").values_list("status", "reason"))
        for pk, n in sending.items()
        if n > 1
    }
    assert len(sending) == PHONE_ONLY and not histories, histories
    progress = lists.list_progress(recipient_list=checked)
    assert progress["status"] == {"sent": FOLLOWERS + PHONE_ONLY}
    assert progress["channel"] == {"inapp": FOLLOWERS, "sms": PHONE_ONLY}
