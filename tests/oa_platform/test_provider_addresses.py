"""Provider endpoints may not point at this machine or a private network (ALLOW_PRIVATE_PROVIDER_URLS off, as
in production): refused on save (admin, set_channel, model validation) and at send time, where what the
host name resolves to is checked. With the setting on (tests, the embedded default) the loopback fakes work."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from oa_platform import channel_types as ct
from oa_platform.models import ChannelConfig
from oa_platform.provider_http import ProviderAddressRefused, public_address
from oa_platform.url_policy import validate_provider_url
from tests.fakes.fake_provider import FakeProvider

PRIVATE_URLS = [
    "http://127.0.0.1:8080/",
    "http://localhost/",
    "http://api.localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://172.16.0.5/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://sms.corp.internal/",
]
# A name that looks public but resolves to the loopback fake: only the send-time check can catch it.
REBOUND_HOST = "sms.agency-gateway.example"


@pytest.fixture
def private_off(settings):
    settings.ALLOW_PRIVATE_PROVIDER_URLS = False


@pytest.fixture
def rebound_dns(monkeypatch):
    """REBOUND_HOST resolves to 127.0.0.1 (as a hostile or mistaken DNS record would)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == REBOUND_HOST else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


def rebound(fake: FakeProvider) -> str:
    return fake.url.replace("127.0.0.1", REBOUND_HOST)


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_urls_refused_on_save_when_not_allowed(private_off, url):
    with pytest.raises(ValidationError) as exc:
        validate_provider_url(url)
    assert exc.value.code == "url_private"


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_urls_allowed_when_the_setting_is_on(settings, url):
    settings.ALLOW_PRIVATE_PROVIDER_URLS = True
    validate_provider_url(url)


def test_public_urls_accepted_when_not_allowed(private_off):
    for url in ("https://openapi.zalo.me", "https://api.weixin.qq.com/", "https://8.8.8.8/x"):
        validate_provider_url(url)


def test_the_setting_is_off_in_production_and_on_by_default():
    import subprocess
    import sys

    code = "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','oa_platform.settings');"
    code += "from django.conf import settings;print(settings.ALLOW_PRIVATE_PROVIDER_URLS)"
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50, "VAR_DIR": "/tmp/oa-settings-check"}
    production = subprocess.run([sys.executable, "-c", code], env=env | {"PRODUCTION": "1"}, capture_output=True)
    embedded = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert production.stdout.decode().strip() == "False", production.stderr.decode()[-500:]
    assert embedded.stdout.decode().strip() == "True", embedded.stderr.decode()[-500:]


def test_admin_refuses_a_private_provider_url(client, tenant_a, private_off):
    client.force_login(tenant_a.manager)
    data = {"account": tenant_a.account.pk, "kind": "sms", "is_enabled": "on", "api_base": "http://127.0.0.1:9000"}
    data |= {"timeout_s": "5", "rate_per_s": "20", "burst": "5", "max_attempts": "4", "backoff_s": "0.5"}
    resp = client.post(reverse("admin:oa_platform_channelconfig_add"), data)
    assert resp.status_code == 200 and resp.context["adminform"].form.errors["api_base"]
    assert ChannelConfig.objects.count() == 0
    channel = {"account": tenant_a.account.pk, "kind": "generic", "is_enabled": "on"}
    resp = client.post(
        reverse("admin:oa_platform_channelconfig_add"), channel | {"callback_url": "http://192.168.0.10/cb"}
    )
    assert resp.status_code == 200 and resp.context["adminform"].form.errors["callback_url"]
    assert ChannelConfig.objects.count() == 0


def test_set_channel_refuses_a_private_api_base(tenant_a, private_off):
    with pytest.raises(CommandError, match="api_base"):
        call_command(
            "set_channel", tenant_a.account.slug, "zalo", "--secret", "oa-secret", "--api-base", "http://localhost:9000"
        )
    assert ChannelConfig.objects.count() == 0


def test_set_channel_accepts_loopback_when_allowed(tenant_a, settings):
    settings.ALLOW_PRIVATE_PROVIDER_URLS = True
    call_command(
        "set_channel", tenant_a.account.slug, "zalo", "--secret", "oa-secret", "--api-base", "http://localhost:9000"
    )
    assert ChannelConfig.objects.get().api_base == "http://localhost:9000"


def test_public_address_checks_every_resolved_address(rebound_dns, private_off):
    with pytest.raises(ProviderAddressRefused):
        public_address(REBOUND_HOST, 80)
    with pytest.raises(ProviderAddressRefused):
        public_address("127.0.0.1", 80)
    assert public_address("8.8.8.8", 443) == "8.8.8.8"


def _sms(account):
    recipient = ct.Recipient(external_id="c1", phone="+84912345678")
    return ct.send("sms", account, recipient, ct.Message("Bão số 3", title="Bão", idempotency_key="oa-n1-c1"))


def test_sms_send_refuses_a_name_resolving_to_loopback(tenant_a, provider, rebound_dns, private_off):
    # given: a provider saved under a public-looking name (passes the save check) that resolves to 127.0.0.1
    ChannelConfig.objects.create(account=tenant_a.account, kind="sms", api_base=rebound(provider), backoff_s=0)
    # when
    result = _sms(tenant_a.account)
    # then: failed for good, without a retry, and the local service got nothing
    assert result.status == "failed" and "not a public address" in result.error and result.attempts == 1
    assert provider.requests == []


def test_sms_send_reaches_the_loopback_fake_when_allowed(tenant_a, provider, rebound_dns, settings):
    settings.ALLOW_PRIVATE_PROVIDER_URLS = True
    ChannelConfig.objects.create(account=tenant_a.account, kind="sms", api_base=rebound(provider), backoff_s=0)
    result = _sms(tenant_a.account)
    assert result.status == "sent"
    assert len(provider.requests) == 1


def test_channel_send_refuses_a_name_resolving_to_loopback(tenant_a, provider, rebound_dns, private_off):
    config = ChannelConfig(account=tenant_a.account, kind="generic", secret="s", callback_url=rebound(provider) + "/cb")
    result = ct.generic.TYPE.send(config, ct.Recipient("c1"), ct.Message("xin chào", reference=1, sender="bot"))
    assert result.status == ct.FAILED and result.error == ct.http.ADDRESS_REFUSED
    zalo = ChannelConfig(account=tenant_a.account, kind="zalo", access_token="t", api_base="http://localhost:1")
    assert ct.zalo.TYPE.send(zalo, ct.Recipient("u1"), ct.Message("x")).error == ct.http.ADDRESS_REFUSED
    assert provider.requests == []


def test_channel_send_reaches_the_loopback_fake_when_allowed(tenant_a, provider, rebound_dns, settings):
    settings.ALLOW_PRIVATE_PROVIDER_URLS = True
    config = ChannelConfig(account=tenant_a.account, kind="generic", secret="s", callback_url=rebound(provider) + "/cb")
    result = ct.generic.TYPE.send(config, ct.Recipient("c1"), ct.Message("xin chào", reference=1, sender="bot"))
    assert result.status == ct.SENT
    assert len(provider.requests) == 1


def test_private_refusal_is_translated(private_off):
    from django.utils import translation

    with translation.override("vi"):
        with pytest.raises(ValidationError) as exc:
            validate_provider_url("http://127.0.0.1/")
        assert "mạng nội bộ" in exc.value.messages[0]
