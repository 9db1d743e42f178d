"""Notices to Zalo and WeChat followers go out on Zalo and WeChat through the one channel layer, with no
start-up registration: the account's channel configuration is all it takes."""

from __future__ import annotations

import pytest

from broadcasts.models import Delivery
from oa_platform.models import Citizen
from tests.broadcasts.conftest import approved, follower
from tests.fakes.fake_messaging_api import FakeMessagingApi
from tests.webhooks.conftest import make_channels

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_api():
    with FakeMessagingApi(zalo_token="zalo-token", wechat_token="wechat-token") as api:
        yield api


def test_a_zalo_notice_is_sent_via_zalo_without_any_registration(tenant_a, fake_api, run_dispatcher):
    # given: the account's Zalo and WeChat channels, one follower on each, and one on the web page
    make_channels(tenant_a.account, fake_api.url)
    zalo_citizen = follower(tenant_a.account, channel=Citizen.CHANNEL_ZALO)
    wechat_citizen = follower(tenant_a.account, channel=Citizen.CHANNEL_WECHAT)
    web_citizen = follower(tenant_a.account)
    notice = approved(tenant_a, title_vi="Cảnh báo bão", body_vi="Bão số 5 đổ bộ tối nay.")
    # when
    run_dispatcher()
    # then
    rows = {d.citizen_id: d for d in Delivery.objects.filter(notice=notice)}
    assert (rows[zalo_citizen.pk].channel, rows[zalo_citizen.pk].status) == ("zalo", "sent")
    assert (rows[wechat_citizen.pk].channel, rows[wechat_citizen.pk].status) == ("wechat", "sent")
    assert (rows[web_citizen.pk].channel, rows[web_citizen.pk].status) == ("inapp", "sent")
    assert {"channel": "zalo", "to": zalo_citizen.external_id, "text": "Cảnh báo bão\n\nBão số 5 đổ bộ tối nay."} in (
        fake_api.sent
    )
    assert rows[zalo_citizen.pk].provider_message_id


def test_without_a_zalo_channel_the_notice_goes_to_the_inbox(tenant_a, tenant_b, fake_api, run_dispatcher):
    # given: B has the channels, A has none
    make_channels(tenant_b.account, fake_api.url)
    citizen = follower(tenant_a.account, channel=Citizen.CHANNEL_ZALO)
    notice = approved(tenant_a)
    run_dispatcher()
    delivery = Delivery.objects.get(notice=notice, citizen=citizen)
    assert (delivery.channel, delivery.status) == ("inapp", "sent")
    assert fake_api.sent == []


def test_a_provider_fault_defers_and_a_refusal_fails(tenant_a, fake_api, run_dispatcher):
    # given: the first Zalo send meets a 500 (retry later), the account's channel otherwise works
    make_channels(tenant_a.account, fake_api.url)
    citizen = follower(tenant_a.account, channel=Citizen.CHANNEL_ZALO)
    notice = approved(tenant_a)
    fake_api.fail_next(1, "500")
    run_dispatcher()
    # then: back in the queue, its chunk waiting
    delivery = Delivery.objects.get(notice=notice, citizen=citizen)
    assert delivery.status == Delivery.STATUS_QUEUED and fake_api.sent == []
