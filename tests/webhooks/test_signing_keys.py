"""A channel without its signing key refuses every webhook (401) instead of checking signatures against an
empty key, which anybody can compute; the admin and set_channel refuse to enable such a channel."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from oa_platform.channel_types import generic, wechat
from oa_platform.models import ChannelConfig, Message, WebhookEvent
from tests.webhooks.conftest import post_zalo, zalo_event, zalo_mac

pytestmark = pytest.mark.django_db


def _blank(config, field):
    # a row stored before the rule (or by hand): the update bypasses model validation on purpose
    ChannelConfig.objects.filter(pk=config.pk).update(**{field: ""})


def _nothing_stored():
    return not WebhookEvent.objects.exists() and not Message.objects.exists()


def test_zalo_without_its_oa_secret_key_refuses_an_event_signed_with_the_empty_key(client, channels_a):
    _blank(channels_a["zalo"], "secret")
    body, ts = zalo_event("xin chào")
    response = post_zalo(client, "agency-a", body, zalo_mac(body, ts, secret=""))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_configured"
    assert _nothing_stored()


def test_wechat_without_its_token_refuses_url_checks_and_messages_signed_with_the_empty_token(client, channels_a):
    _blank(channels_a["wechat"], "token")
    ts, nonce = str(int(time.time())), "n1"
    signed = {"timestamp": ts, "nonce": nonce, "signature": wechat.signature("", ts, nonce)}
    verification = client.get("/webhooks/wechat/agency-a/", {**signed, "echostr": "echo-123"})
    assert verification.status_code == 401 and b"echo-123" not in verification.content
    body = (
        b"<xml><ToUserName>gh_account</ToUserName><FromUserName>o-user-1</FromUserName><CreateTime>1700000000"
        b"</CreateTime><MsgType>text</MsgType><Content>xin ch\xc3\xa0o</Content><MsgId>1001</MsgId></xml>"
    )
    query = "&".join(f"{k}={v}" for k, v in signed.items())
    message = client.post(f"/webhooks/wechat/agency-a/?{query}", data=body, content_type="text/xml")
    assert message.status_code == 401
    assert _nothing_stored()


def test_generic_without_its_secret_refuses_an_hmac_with_the_empty_key(client, channels_a):
    _blank(channels_a["generic"], "secret")
    body = b'{"id": "sms-1", "citizen_id": "c-1", "text": "xin ch\\u00e0o"}'
    headers = generic.signed_headers(secret="", timestamp=str(int(time.time())), body=body)
    headers.pop("Content-Type")
    response = client.post("/webhooks/generic/agency-a/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("kind", "options", "field"),
    [
        ("zalo", ["--app-id", "app-1", "--access-token", "tok"], "secret"),
        ("wechat", ["--app-id", "wx1", "--secret", "app-secret"], "token"),  # the AppSecret does not sign webhooks
        ("generic", ["--callback-url", "https://agency.example/cb"], "secret"),
    ],
)
def test_set_channel_refuses_to_enable_a_channel_without_its_signing_key(tenant_a, kind, options, field):
    with pytest.raises(CommandError, match=f"^{field}: "):
        call_command("set_channel", "agency-a", kind, *options)
    assert not ChannelConfig.objects.filter(account=tenant_a.account, kind=kind).exists()
    # a disabled channel may wait for its key
    call_command("set_channel", "agency-a", kind, *options, "--disable")
    assert not ChannelConfig.objects.get(account=tenant_a.account, kind=kind).is_enabled


@pytest.mark.urls("tests.oa_platform.admin_urls")
def test_the_admin_refuses_to_enable_a_channel_without_its_signing_key(client, tenant_a):
    client.force_login(tenant_a.manager)
    url = reverse("admin:oa_platform_channelconfig_add")
    data = {"account": tenant_a.account.pk, "kind": "generic", "callback_url": "https://agency.example/cb"}
    response = client.post(url, {**data, "is_enabled": "on"})
    assert response.status_code == 200
    assert "secret" in response.context["adminform"].form.errors
    assert not ChannelConfig.objects.exists()
    # with the secret it is saved; saving it again without retyping the secret keeps it (write-only field)
    assert client.post(url, {**data, "is_enabled": "on", "secret": "s3cret"}).status_code == 302
    config = ChannelConfig.objects.get()
    change = reverse("admin:oa_platform_channelconfig_change", args=[config.pk])
    assert client.post(change, {**data, "is_enabled": "on"}).status_code == 302
    config.refresh_from_db()
    assert config.secret == "s3cret" and config.is_enabled
