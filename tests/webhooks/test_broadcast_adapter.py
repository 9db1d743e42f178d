"""Notices to Zalo/WeChat followers go out through the same send APIs as chat replies."""

import pytest

from broadcasts.models import Delivery
from broadcasts.providers.base import OutboundMessage
from broadcasts.providers.registry import adapter_for, registered_channels
from oa_platform.webhooks.broadcast_adapter import ChatChannelAdapter, register

pytestmark = pytest.mark.django_db


def _message(account, channel, external_id, delivery_id=1):
    return OutboundMessage(
        delivery_id=delivery_id,
        notice_id=1,
        account_id=account.pk,
        citizen_id=1,
        channel=channel,
        citizen_channel=channel,
        external_id=external_id,
        phone="",
        language="vi",
        title="Cảnh báo bão",
        body="Bão số 5 đổ bộ tối nay.",
        link="",
        severity="warning",
        kind="alert",
        idempotency_key=f"k{delivery_id}",
    )


def test_adapters_are_registered_for_zalo_and_wechat(tenant_a):
    register()  # idempotent; another test may have unregistered them
    assert {"zalo", "wechat"} <= registered_channels()
    assert isinstance(adapter_for("zalo", account=tenant_a.account), ChatChannelAdapter)


def test_notices_are_sent_and_failures_mapped(tenant_a, tenant_b, channels_a, fake_api):
    zalo = ChatChannelAdapter("zalo")
    fake_api.fail_next(1, "500")
    results = zalo.send(
        [
            _message(tenant_a.account, "zalo", "u1", 1),
            _message(tenant_a.account, "zalo", "u2", 2),
            _message(tenant_b.account, "zalo", "u3", 3),  # B has no Zalo channel
        ]
    )
    assert [(r.delivery_id, r.status) for r in results] == [(1, "retry"), (2, Delivery.STATUS_SENT), (3, "failed")]
    assert fake_api.sent == [{"channel": "zalo", "to": "u2", "text": "Cảnh báo bão\n\nBão số 5 đổ bộ tối nay."}]
    [wechat_result] = ChatChannelAdapter("wechat").send([_message(tenant_a.account, "wechat", "o1", 4)])
    assert wechat_result.status == Delivery.STATUS_SENT
