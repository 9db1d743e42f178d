"""Channel fixtures: the loopback fake provider API and channel configs for tenant A (and B, for the
cross-tenant cases)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from oa_platform.models import ChannelConfig, Citizen
from tests.fakes.fake_messaging_api import FakeMessagingApi

ZALO_APP_ID = "360846524940903967"
ZALO_SECRET = "OA-secret-key-123"
WECHAT_TOKEN = "spamtest"
WECHAT_APP_ID = "wx5823bf96d3bd56c7"
WECHAT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
GENERIC_SECRET = "generic-secret"


@pytest.fixture
def fake_api():
    with FakeMessagingApi(zalo_token="zalo-token", wechat_token="wechat-token") as api:
        yield api


@pytest.fixture
def short_send_timeout(channels_a):
    """Make the client give up after 0.3 s so a "timeout" fault (1.5 s stall) is quick to provoke."""
    ChannelConfig.objects.filter(account=channels_a["zalo"].account).update(timeout_s=0.3)


def make_channels(account, api_url: str, *, secret_suffix: str = "") -> dict:
    common = {"account": account, "api_base": api_url}
    return {
        "zalo": ChannelConfig.objects.create(
            kind=Citizen.CHANNEL_ZALO,
            app_id=ZALO_APP_ID,
            secret=ZALO_SECRET + secret_suffix,
            access_token="zalo-token",
            **common,
        ),
        "wechat": ChannelConfig.objects.create(
            kind=Citizen.CHANNEL_WECHAT,
            app_id=WECHAT_APP_ID,
            token=WECHAT_TOKEN + secret_suffix,
            encoding_aes_key=WECHAT_AES_KEY,
            access_token="wechat-token",
            **common,
        ),
        "generic": ChannelConfig.objects.create(
            kind=Citizen.CHANNEL_GENERIC,
            secret=GENERIC_SECRET + secret_suffix,
            callback_url=api_url + "/callback",
            **common,
        ),
    }


@pytest.fixture
def channels_a(tenant_a, fake_api):
    return make_channels(tenant_a.account, fake_api.url)


@pytest.fixture
def channels_b(tenant_b, fake_api):
    return make_channels(tenant_b.account, fake_api.url, secret_suffix="-b")


def zalo_event(text="Xin hỏi thủ tục", *, user_id="u-100", msg_id="msg-1", timestamp_ms=None, event="user_send_text"):
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    payload = {"app_id": ZALO_APP_ID, "event_name": event, "timestamp": str(timestamp_ms)}
    if event in ("follow", "unfollow"):
        payload["follower"] = {"id": user_id}
    else:
        payload["sender"] = {"id": user_id}
        payload["recipient"] = {"id": "oa-1"}
        payload["message"] = {"text": text}
        if msg_id:
            payload["message"]["msg_id"] = msg_id
    return json.dumps(payload, ensure_ascii=False).encode(), str(timestamp_ms)


def zalo_mac(body: bytes, timestamp: str, *, secret=ZALO_SECRET, app_id=ZALO_APP_ID) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def post_zalo(client, slug, body, mac):
    headers = {"X-ZEvent-Signature": mac} if mac else {}
    return client.post(f"/webhooks/zalo/{slug}/", data=body, content_type="application/json", headers=headers)
