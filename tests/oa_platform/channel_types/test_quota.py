"""A channel type's daily quota is enforced (channel_types.quota through registry.send): per account and kind,
per day of the account's time zone; past it nothing is posted and the outcome is RETRY until local midnight."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from oa_platform import channel_types as ct
from oa_platform.channel_types import zns
from oa_platform.channel_types.quota import QUOTA_REACHED, next_local_midnight
from oa_platform.models import ChannelConfig
from tests.fakes.fake_provider import FakeProvider

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
# 23:30 in Hồ Chí Minh City: the account's day ends in 30 minutes (and the UTC day is another date)
LATE_EVENING_UTC = dt.datetime(2026, 12, 3, 16, 30, tzinfo=dt.UTC)


@pytest.fixture
def fake_provider():
    with FakeProvider() as provider:
        yield provider


def _zns(tenant, url, **kw):
    values = {"rate_per_s": 1000, "burst": 100, "max_attempts": 1, "timeout_s": 2.0} | kw
    return ChannelConfig.objects.create(account=tenant.account, kind="zns", api_base=url, access_token="k", **values)


def _send(tenant, i):
    return ct.send(
        "zns", tenant.account, ct.Recipient(phone="+84901234567"), ct.Message("Lịch tiêm", idempotency_key=f"q{i}")
    )


def test_past_the_quota_nothing_is_posted_and_it_retries_at_local_midnight(tenant_a, fake_provider, time_machine):
    time_machine.move_to(LATE_EVENING_UTC, tick=True)
    assert tenant_a.account.timezone == "Asia/Ho_Chi_Minh"
    _zns(tenant_a, fake_provider.url, daily_quota=2)
    # given the day's quota used
    assert [_send(tenant_a, i).status for i in (1, 2)] == [ct.SENT, ct.SENT]
    # when one more is sent
    result = _send(tenant_a, 3)
    # then it is not posted, and is handed back until midnight in the account's time zone
    assert (result.status, result.error, result.attempts) == (ct.RETRY, QUOTA_REACHED, 0)
    assert 1790 <= result.retry_after <= 1800
    assert len(fake_provider.requests) == 2
    # the next local day has a new quota
    time_machine.move_to(LATE_EVENING_UTC + dt.timedelta(minutes=31), tick=True)
    assert _send(tenant_a, 4).status == ct.SENT
    assert len(fake_provider.requests) == 3


def test_the_quota_is_per_account(tenant_a, tenant_b, fake_provider, time_machine):
    time_machine.move_to(LATE_EVENING_UTC, tick=True)
    _zns(tenant_a, fake_provider.url, daily_quota=1)
    _zns(tenant_b, fake_provider.url, daily_quota=1)
    assert _send(tenant_a, 1).status == ct.SENT
    assert _send(tenant_a, 2).status == ct.RETRY
    assert _send(tenant_b, 3).status == ct.SENT  # the other agency's quota is its own


def test_the_types_quota_applies_without_an_override(tenant_a, fake_provider, monkeypatch, time_machine):
    time_machine.move_to(LATE_EVENING_UTC, tick=True)
    monkeypatch.setattr(zns.TYPE, "daily_quota", 1)
    _zns(tenant_a, fake_provider.url)
    assert _send(tenant_a, 1).status == ct.SENT
    assert _send(tenant_a, 2).error == QUOTA_REACHED


def test_a_message_the_provider_did_not_take_uses_no_quota(tenant_a, fake_provider, time_machine):
    time_machine.move_to(LATE_EVENING_UTC, tick=True)
    _zns(tenant_a, fake_provider.url, daily_quota=1)
    fake_provider.script = ["zns-error:-124", "500"]
    assert _send(tenant_a, 1).status == ct.FAILED
    assert _send(tenant_a, 2).status == ct.RETRY  # a 5xx, not the quota
    assert _send(tenant_a, 3).status == ct.SENT
    assert _send(tenant_a, 4).error == QUOTA_REACHED


def test_a_kind_without_quota_is_not_counted(tenant_a, fake_provider):
    ChannelConfig.objects.create(account=tenant_a.account, kind="sms", api_base=fake_provider.url, access_token="k")
    assert ct.type_for("sms").daily_quota is None
    for _i in range(3):
        assert ct.send("sms", tenant_a.account, ct.Recipient(phone="+84901234567"), ct.Message("x")).status == ct.SENT


def test_next_local_midnight_is_in_the_accounts_zone():
    assert next_local_midnight(HCM, LATE_EVENING_UTC) == dt.datetime(2026, 12, 4, tzinfo=HCM)
    assert next_local_midnight(dt.UTC, LATE_EVENING_UTC) == dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    early = dt.datetime(2026, 12, 3, 17, 0, 1, tzinfo=dt.UTC)  # 00:00:01 on the 4th in Hồ Chí Minh City
    assert next_local_midnight(HCM, early) == dt.datetime(2026, 12, 5, tzinfo=HCM)
