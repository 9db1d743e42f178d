"""Write to an account as a citizen through each channel that names one: the chat API and the generic, Zalo
and WeChat webhooks, each signed with that account's own secret (tests/webhooks/conftest.make_channels)."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from oa_platform.channel_types import generic, wechat
from oa_platform.models import Citizen
from tests.fakes.fake_messaging_api import FakeMessagingApi
from tests.webhooks.conftest import GENERIC_SECRET, WECHAT_TOKEN, ZALO_SECRET, make_channels, zalo_event, zalo_mac


@pytest.fixture
def fake_api():
    with FakeMessagingApi(zalo_token="zalo-token", wechat_token="wechat-token") as api:
        yield api


@pytest.fixture
def channels(tenant_a, tenant_b, fake_api):
    return {
        tenant_a.account.slug: make_channels(tenant_a.account, fake_api.url),
        tenant_b.account.slug: make_channels(tenant_b.account, fake_api.url, secret_suffix="-b"),
    }


def _secret_suffix(slug: str) -> str:
    return "-b" if slug == "agency-b" else ""


# --- one way to write as citizen ``external_id`` to account ``slug`` on each channel  ---
def _send_api(client, tenant, external_id, text, profile):
    response = client.post(
        f"/api/v1/accounts/{tenant.account.slug}/messages/",
        data=json.dumps({"citizen_id": external_id, "text": text, **profile}),
        content_type="application/json",
        headers={"Authorization": f"Token {tenant.token}"},
    )
    assert response.status_code == 200, response.content


def _send_generic(client, tenant, external_id, text, profile):
    body = json.dumps({"id": f"g-{time.monotonic_ns()}", "citizen_id": external_id, "text": text, **profile}).encode()
    secret = GENERIC_SECRET + _secret_suffix(tenant.account.slug)
    headers = generic.signed_headers(secret=secret, timestamp=str(int(time.time())), body=body)
    headers.pop("Content-Type")
    response = client.post(
        f"/webhooks/generic/{tenant.account.slug}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content


def _send_zalo(client, tenant, external_id, text, profile):
    body, timestamp = zalo_event(text, user_id=external_id, msg_id=f"z-{time.monotonic_ns()}")
    mac = zalo_mac(body, timestamp, secret=ZALO_SECRET + _secret_suffix(tenant.account.slug))
    response = client.post(
        f"/webhooks/zalo/{tenant.account.slug}/",
        data=body,
        content_type="application/json",
        headers={"X-ZEvent-Signature": mac},
    )
    assert response.status_code == 200, response.content


def _send_wechat(client, tenant, external_id, text, profile):
    token = WECHAT_TOKEN + _secret_suffix(tenant.account.slug)
    timestamp, nonce = str(int(time.time())), "n1"
    params = {"timestamp": timestamp, "nonce": nonce, "signature": wechat.signature(token, timestamp, nonce)}
    body = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{external_id}</FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType>text</MsgType><Content>{text}</Content>"
        f"<MsgId>{time.monotonic_ns()}</MsgId></xml>"
    ).encode()
    query = urllib.parse.urlencode(params)
    response = client.post(f"/webhooks/wechat/{tenant.account.slug}/?{query}", data=body, content_type="text/xml")
    assert response.status_code == 200, response.content


# way -> (the citizen's channel, the sender, whether the channel carries a name and phone)
SENDERS = {
    "api": (Citizen.CHANNEL_WEB, _send_api, True),
    "generic": (Citizen.CHANNEL_GENERIC, _send_generic, True),
    "zalo": (Citizen.CHANNEL_ZALO, _send_zalo, False),
    "wechat": (Citizen.CHANNEL_WECHAT, _send_wechat, False),
}
