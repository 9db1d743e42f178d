"""The one HTTP policy (channel_types.http) as the notice providers use it: retries on 5xx and timeouts with
back-off, 429 waited out (or handed back), never a retry on another 4xx, the shared token bucket; and the
registry's table of types."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oa_platform import channel_types as ct
from oa_platform.models import ChannelConfig
from tests.fakes.fake_provider import FakeProvider

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fake_provider():
    with FakeProvider() as provider:
        yield provider


def _config(tenant, url, kind="sms", **kw):
    values = {"rate_per_s": 1000, "burst": 100, "backoff_s": 0.05, "timeout_s": 0.5, "max_attempts": 4} | kw
    return ChannelConfig.objects.create(account=tenant.account, kind=kind, api_base=url, access_token="k", **values)


def _msg(i=1, key=None):
    """A notice's delivery as the ordinary (recipient, message) pair every channel type sends."""
    recipient = ct.Recipient(external_id=f"e{i}", phone="+84901234567", language="vi")
    message = ct.Message(
        text="Bão số 3",
        title="Bão",
        idempotency_key=key or f"oa-n1-c{i}",
        reference=1,
        notice={"kind": "alert", "severity": "severe"},
    )
    return recipient, message


def _send(config, msg):
    return ct.type_for(config.kind).send(config, *msg)


def test_500_is_retried_then_sent(tenant_a, fake_provider):
    fake_provider.script = ["500", "500"]
    result = _send(_config(tenant_a, fake_provider.url), _msg())
    assert (result.status, result.attempts) == ("sent", 3)
    assert [r["key"] for r in fake_provider.requests] == ["oa-n1-c1"] * 3
    assert fake_provider.successes["oa-n1-c1"] == 1


def test_timeout_is_retried(tenant_a, fake_provider):
    fake_provider.timeout_sleep = 1.0
    fake_provider.script = ["timeout"]
    result = _send(_config(tenant_a, fake_provider.url, timeout_s=0.3), _msg())
    assert (result.status, result.attempts) == ("sent", 2)


def test_429_retry_after_is_respected(tenant_a, fake_provider):
    fake_provider.script = ["429:1"]
    result = _send(_config(tenant_a, fake_provider.url), _msg())
    first, second = fake_provider.requests
    assert result.status == "sent"
    assert second["t"] - first["t"] >= 0.95


def test_long_retry_after_hands_back(tenant_a, fake_provider):
    fake_provider.script = ["429:120"]
    result = _send(_config(tenant_a, fake_provider.url), _msg())
    assert result.status == "retry" and result.retry_after == 120


def test_4xx_is_permanent_with_reason(tenant_a, fake_provider):
    fake_provider.script = ["400:invalid phone number"]
    result = _send(_config(tenant_a, fake_provider.url), _msg())
    assert result.status == "failed" and result.error == "HTTP 400: recipient refused"
    assert len(fake_provider.requests) == 1


def test_zns_error_body_is_permanent(tenant_a, fake_provider):
    fake_provider.script = ["zns-error:-124"]
    result = _send(_config(tenant_a, fake_provider.url, kind="zns"), _msg())
    assert result.status == "failed" and "-124" in result.error
    assert fake_provider.requests[0]["path"] == "/message/template"


def test_gives_up_after_max_attempts(tenant_a, fake_provider):
    fake_provider.script = ["500"] * 10
    result = _send(_config(tenant_a, fake_provider.url, kind="webhook", max_attempts=3), _msg())
    assert result.status == "failed" and "gave up after 3" in result.error
    assert len(fake_provider.requests) == 3


def test_rate_limit_is_held(tenant_a, fake_provider):
    config = _config(tenant_a, fake_provider.url, rate_per_s=10, burst=1)
    results = [_send(config, _msg(i)) for i in range(1, 13)]
    assert all(r.status == "sent" for r in results)
    times = [r["t"] for r in fake_provider.requests]
    # 12 sends at 10/s with a burst of 1: at least 1.1 s from first to last, never more than 11 in any second
    assert times[-1] - times[0] >= 1.05
    assert all(sum(1 for t in times if s <= t < s + 1.0) <= 11 for s in times)


def test_no_api_key_sends_no_empty_auth_header(tenant_a, fake_provider):
    # regression: "Bearer " with an empty key is an invalid header value and failed every send
    config = _config(tenant_a, fake_provider.url, kind="sms")
    config.access_token = ""
    result = _send(config, _msg())
    assert result.status == "sent"


@pytest.mark.django_db
def test_every_provider_kind_has_its_channel_type(tenant_a):
    # given: an enabled configuration of every notice provider kind
    for kind in ChannelConfig.PROVIDER_KINDS:
        _config(tenant_a, "http://127.0.0.1:9", kind=kind)
    # then: the registry knows each kind's type, and finds the account's configuration of it
    assert set(ChannelConfig.PROVIDER_KINDS) == {"sms", "webhook", "zns"}
    for kind in ChannelConfig.PROVIDER_KINDS:
        assert ct.type_for(kind).kind == kind
        assert ct.config_for(tenant_a.account, kind).kind == kind


def test_the_channel_types_are_known_in_a_fresh_process_without_start_up_wiring():
    """The registry is a fixed table: a process that only sets Django up sends through every type."""
    code = (
        "import django; django.setup(); from oa_platform.channel_types import registry; "
        "print(','.join(sorted(registry.TYPES)))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oa_platform.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "generic,sms,web,webhook,wechat,zalo,zns"


def test_a_zns_message_may_name_its_own_template_and_parameters(tenant_a, fake_provider):
    """Personal notices send a template of their own (with its parameters) through the account's ZNS."""
    _config(tenant_a, fake_provider.url, kind="zns", template_id="account-template")
    message = ct.Message("", template_id="tpl-42", template_data={"name": "Lan", "due": "05/12"}, idempotency_key="p1")
    result = ct.send("zns", tenant_a.account, ct.Recipient(phone="+84901234567"), message)
    assert result.status == ct.SENT
    sent = json.loads(fake_provider.requests[0]["body"])
    assert (sent["template_id"], sent["template_data"], sent["phone"]) == (
        "tpl-42",
        {"name": "Lan", "due": "05/12"},
        "84901234567",
    )
