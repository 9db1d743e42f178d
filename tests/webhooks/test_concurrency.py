"""The same provider event delivered 10 times at once, over real HTTP to a real server, gives one message
and one reply (one send to the provider). Holds on PostgreSQL (row locks, unique constraints) and SQLite."""

import httpx
import pytest

from oa_platform.models import Message, WebhookEvent
from tests.concurrency import all_at_once
from tests.webhooks.conftest import make_channels, zalo_event, zalo_mac

REPLAYS = 10
# SQLite's in-memory test database (shared cache) answers concurrent writers with "table is locked" instead
# of waiting, so this runs on PostgreSQL (CI), where production runs.
pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_replays_give_one_message_and_one_reply(live_server, tenant_a, fake_api):
    # given
    make_channels(tenant_a.account, fake_api.url)
    body, ts = zalo_event("xin chào", msg_id="concurrent-1")
    headers = {"X-ZEvent-Signature": zalo_mac(body, ts), "Content-Type": "application/json"}
    url = f"{live_server.url}/webhooks/zalo/agency-a/"

    def deliver():
        return httpx.post(url, content=body, headers=headers, timeout=30).status_code

    # when
    statuses, errors = all_at_once(deliver, REPLAYS)
    # then
    assert errors == []
    assert statuses == [200] * REPLAYS
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1
    replies = list(Message.objects.filter(direction="out"))
    assert len(replies) == 1 and replies[0].delivery_status == "sent"
    assert len(fake_api.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_wechat_replays_give_one_message_and_one_reply(live_server, tenant_a, fake_api):
    import time

    from oa_platform.channel_types import wechat
    from tests.webhooks.conftest import WECHAT_TOKEN

    make_channels(tenant_a.account, fake_api.url)
    body = (
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>text</MsgType><Content>xin chao</Content><MsgId>777</MsgId></xml>"
    )
    timestamp = str(int(time.time()))
    params = {"timestamp": timestamp, "nonce": "n", "signature": wechat.signature(WECHAT_TOKEN, timestamp, "n")}

    def deliver():
        r = httpx.post(f"{live_server.url}/webhooks/wechat/agency-a/", params=params, content=body, timeout=30)
        return r.status_code, r.content

    answers, errors = all_at_once(deliver, REPLAYS)
    assert errors == []
    assert [status for status, _ in answers] == [200] * REPLAYS
    contents = {wechat.parse_xml(content)["Content"] for _, content in answers}
    assert len(contents) == 1  # every delivery got the same passive reply
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(direction="out").count() == 1
