"""Stored API keys and secrets are never printed back into an admin form; saving with the field blank keeps
them, typing a new value replaces only that one."""

import pytest
from django.forms import PasswordInput
from django.urls import reverse

from oa_platform.models import ChannelConfig

CHANNEL_SECRETS = {
    "secret": "oa-secret-AAA111",
    "app_secret": "app-secret-BBB222",
    "access_token": "access-token-CCC333",
    "refresh_token": "refresh-token-DDD444",
    "token": "wechat-token-EEE555",
    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
}
PROVIDER_SECRETS = {"access_token": "sk_live_PROVIDER_FFF666", "secret": "hmac-secret-GGG777"}


def _post_data(form) -> dict:
    """The change form as the browser would send it back untouched (password inputs come back empty)."""
    data = {}
    for name, field in form.fields.items():
        if isinstance(field.widget, PasswordInput):
            continue
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.mark.parametrize(
    ("model", "admin_name", "values", "secrets"),
    [
        (ChannelConfig, "oa_platform_channelconfig", {"kind": "wechat", "app_id": "wx1"}, CHANNEL_SECRETS),
        (
            ChannelConfig,
            "oa_platform_channelconfig",
            {"kind": "sms", "api_base": "https://sms.example"},
            PROVIDER_SECRETS,
        ),
    ],
)
def test_secrets_are_write_only(client, tenant_a, model, admin_name, values, secrets):
    # given: a configuration with every secret set
    config = model.objects.create(account=tenant_a.account, **values, **secrets)
    client.force_login(tenant_a.manager)
    url = reverse(f"admin:{admin_name}_change", args=[config.pk])
    # when the manager opens it
    page = client.get(url)
    html = page.content.decode()
    # then no stored secret is in the page, and each field says one is stored
    assert page.status_code == 200
    for value in secrets.values():
        assert value not in html
    assert html.count("Leave blank to keep it") >= len(secrets) or html.count("để giữ") >= len(secrets)
    # when it is saved with the secret fields left blank
    data = _post_data(page.context["adminform"].form)
    assert not set(secrets) & {k for k, v in data.items() if v}
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    # then every secret is kept
    config.refresh_from_db()
    assert {name: getattr(config, name) for name in secrets} == secrets
    # when one secret is typed in, only that one changes
    first = next(iter(secrets))
    resp = client.post(url, data | {first: "a-new-value-HHH888"})
    assert resp.status_code == 302
    config.refresh_from_db()
    assert getattr(config, first) == "a-new-value-HHH888"
    assert {name: getattr(config, name) for name in secrets if name != first} == {
        k: v for k, v in secrets.items() if k != first
    }
    assert "a-new-value-HHH888" not in client.get(url).content.decode()
