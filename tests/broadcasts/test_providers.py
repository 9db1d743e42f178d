"""Notices through the notice providers: the fan-out sends SMS deliveries through channel_types (sms), defers a
throttled chunk and comes back to it."""

from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from broadcasts.services import settings_for
from oa_platform.models import ChannelConfig
from tests.broadcasts.conftest import approved, follower


def _config(tenant, url, kind="sms", **kw):
    values = {"rate_per_s": 1000, "burst": 100, "backoff_s": 0.05, "timeout_s": 0.5, "max_attempts": 4} | kw
    return ChannelConfig.objects.create(account=tenant.account, kind=kind, api_base=url, access_token="k", **values)


def test_fanout_through_sms_provider(tenant_a, fake_provider, run_dispatcher):
    # given: SMS for phone-holders, one permanent refusal, one 500 then success
    _config(tenant_a, fake_provider.url, kind="sms")
    policy = settings_for(tenant_a.account)
    policy.phone_channel = BroadcastSettings.PHONE_SMS
    policy.save()
    with_phone = [follower(tenant_a.account, phone=f"+8490123456{i}") for i in range(4)]
    no_phone = follower(tenant_a.account)
    notice = approved(tenant_a)
    bad_key = f"oa-n{notice.pk}-c{with_phone[0].pk}"
    flaky_key = f"oa-n{notice.pk}-c{with_phone[1].pk}"
    fake_provider.per_key_script = {bad_key: ["400:blocked number"], flaky_key: ["500"]}
    # when
    run_dispatcher()
    # then
    rows = {d.citizen_id: d for d in Delivery.objects.filter(notice=notice)}
    assert rows[no_phone.pk].channel == "inapp" and rows[no_phone.pk].status == "sent"
    assert (
        rows[with_phone[0].pk].status == "failed" and rows[with_phone[0].pk].last_error == "HTTP 400: recipient refused"
    )
    assert rows[with_phone[1].pk].status == "sent" and rows[with_phone[1].pk].attempts == 2
    assert all(rows[c.pk].provider_message_id for c in with_phone[1:])
    assert set(fake_provider.successes.values()) == {1}
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SENT


def test_deferred_chunk_comes_back_later(tenant_a, fake_provider, run_dispatcher):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    _config(tenant_a, fake_provider.url, kind="sms")
    policy = settings_for(tenant_a.account)
    policy.phone_channel = BroadcastSettings.PHONE_SMS
    policy.save()
    citizen = follower(tenant_a.account, phone="+84901234567")
    notice = approved(tenant_a)
    fake_provider.script = ["429:300"]
    run_dispatcher()
    chunk = Chunk.objects.get(notice=notice, channel="sms")
    assert chunk.status == "pending" and chunk.not_before is not None
    assert Delivery.objects.get(notice=notice, citizen=citizen).status == "queued"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=301)):
        run_dispatcher()
    assert Delivery.objects.get(notice=notice, citizen=citizen).status == "sent"
