"""A worker that dies after a post reached the provider but before its result was written: the delivery was
marked "sending" (committed) before the post, so the next run does not post it again to a provider that
ignores the Idempotency-Key (it becomes "unknown"), and re-posts it with the same key to one that honours it."""

from collections import Counter
from unittest import mock

import pytest

from broadcasts import fanout, sending
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from broadcasts.selectors import notice_progress
from broadcasts.services import Actor, notice_cancel, notice_follow_up_create, settings_for
from oa_platform.channel_types.sms import SmsType
from oa_platform.models import ChannelConfig
from tests.broadcasts.conftest import approved, follower
from tests.fakes.fake_provider import FakeProvider

SMS_FOLLOWERS = 25  # three batches of SEND_BATCH (10)


@pytest.fixture
def sms_notice(tenant_a):
    def build(provider: FakeProvider, *, honours: bool) -> Notice:
        ChannelConfig.objects.create(
            account=tenant_a.account,
            kind="sms",
            api_base=provider.url,
            rate_per_s=1000,
            burst=100,
            backoff_s=0.05,
            honours_idempotency_key=honours,
        )
        policy = settings_for(tenant_a.account)
        policy.phone_channel = BroadcastSettings.PHONE_SMS
        policy.save()
        for i in range(SMS_FOLLOWERS):
            follower(tenant_a.account, phone=f"+849{20000000 + i}")
        notice = approved(tenant_a, audience_all=True, severity="extreme")
        assert fanout.notice_dispatch_one() == notice.pk  # materialise; chunk tasks are run by hand below
        return notice

    return build


def crash_after_first_post():
    """The worker dies right after its first post reached the provider, before any result is written."""
    real = SmsType.send
    calls = Counter()

    def dying(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemError("worker killed")
        return result

    return mock.patch.object(SmsType, "send", dying)


def run_chunk_with_crash(notice):
    [chunk] = Chunk.objects.filter(notice=notice, channel="sms")
    with crash_after_first_post(), pytest.raises(SystemError):
        sending.chunk_process(chunk_id=chunk.pk)
    # the chunk was handed back; the next run (sweeper, another worker) takes it
    assert Chunk.objects.get(pk=chunk.pk).status == Chunk.STATUS_PENDING
    sending.chunk_process(chunk_id=chunk.pk)
    return chunk


def statuses(notice):
    return Counter(Delivery.objects.filter(notice=notice, channel="sms").values_list("status", flat=True))


def test_provider_ignoring_key_gets_nothing_twice_after_a_crash(sms_notice):
    with FakeProvider(honour_keys=False) as provider:
        notice = sms_notice(provider, honours=False)
        run_chunk_with_crash(notice)
    # then: no recipient got two messages; the one in flight is "unknown", the rest sent
    assert len(provider.posts) == SMS_FOLLOWERS and max(provider.posts.values()) == 1
    assert statuses(notice) == {"unknown": 1, "sent": SMS_FOLLOWERS - 1}
    unknown = Delivery.objects.filter(notice=notice, status="unknown").first()
    assert unknown.last_error == Delivery.UNKNOWN_ERROR
    # the notice finished, and its progress counts the unknown ones as done
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SENT and notice_progress(notice=notice)["percent"] == 100.0


def test_provider_honouring_key_gets_the_lost_batch_again_with_the_same_key(sms_notice):
    with FakeProvider(honour_keys=True) as provider:
        notice = sms_notice(provider, honours=True)
        run_chunk_with_crash(notice)
    # then: every delivery is sent; the lost one was posted twice with the same key, deduplicated there
    assert statuses(notice) == {"sent": SMS_FOLLOWERS}
    keys = Counter(r["key"] for r in provider.requests)
    assert sorted(keys.values()) == [1] * (SMS_FOLLOWERS - 1) + [2]
    assert set(provider.successes.values()) == {1} and len(provider.successes) == SMS_FOLLOWERS


def test_a_correction_also_goes_to_unknown_recipients(tenant_a, sms_notice):
    with FakeProvider(honour_keys=False) as provider:
        notice = sms_notice(provider, honours=False)
        run_chunk_with_crash(notice)
    follow_up = notice_follow_up_create(notice=notice, kind=Notice.KIND_UPDATE, actor=Actor(user=tenant_a.broadcaster))
    assert fanout.audience_preview(follow_up.notice)["total"] == SMS_FOLLOWERS


def test_cancel_resolves_rows_a_dead_worker_left_sending(tenant_a, sms_notice):
    with FakeProvider(honour_keys=False) as provider:
        notice = sms_notice(provider, honours=False)
        Delivery.objects.filter(pk__in=Delivery.objects.filter(notice=notice).values("pk")[:3]).update(status="sending")
        notice_cancel(notice=notice, actor=Actor(user=tenant_a.broadcaster))
    assert statuses(notice) == {"unknown": 3, "skipped": SMS_FOLLOWERS - 3}
    assert not provider.requests
