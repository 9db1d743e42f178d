"""``set_channel`` sets every kind's configuration through the kind's schema (channel_types.<kind>.config_fields):
every field of it, nothing outside it, each value through the field's own validation, nothing half-stored."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from oa_platform.channel_types import registry
from oa_platform.management.commands.set_channel import KINDS
from oa_platform.models import ChannelConfig

# option value given -> the value stored, for every field of any kind's schema
VALUES = {
    "app_id": ("wx1", "wx1"),
    "secret": ("s3cret", "s3cret"),
    "access_token": ("tok", "tok"),
    "api_base": ("https://api.example.org", "https://api.example.org"),
    "token": ("t", "t"),
    "encoding_aes_key": ("a" * 43, "a" * 43),
    "callback_url": ("https://agency.example/cb", "https://agency.example/cb"),
    "app_secret": ("app", "app"),
    "refresh_token": ("ref", "ref"),
    "template_id": ("tpl-1", "tpl-1"),
    "timeout_s": ("2.5", 2.5),
    "rate_per_s": ("10", 10.0),
    "burst": ("3", 3),
    "max_attempts": ("2", 2),
    "backoff_s": ("1.5", 1.5),
    "daily_quota": ("1000", 1000),
    "honours_idempotency_key": ("yes", True),
}


def _flag(field: str) -> str:
    return "--" + {"encoding_aes_key": "aes-key"}.get(field, field.replace("_", "-"))


def test_every_kind_with_a_configuration_is_settable():
    assert set(KINDS) == set(registry.TYPES) - registry.UNCONFIGURED
    assert {"zalo", "zns", "wechat", "generic", "webhook", "sms"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_of_the_kinds_schema_is_set(tenant_a, kind):
    schema = registry.TYPES[kind].config_fields
    assert set(schema) <= set(VALUES), "a new config field needs a value here"
    options = [part for field in schema for part in (_flag(field), VALUES[field][0])]
    call_command("set_channel", tenant_a.account.slug, kind, *options)
    config = ChannelConfig.objects.get(account=tenant_a.account, kind=kind)
    assert config.is_enabled
    for field in schema:
        assert getattr(config, field) == VALUES[field][1], field


def test_an_option_outside_the_kinds_schema_is_refused(tenant_a):
    with pytest.raises(CommandError, match="--callback-url: not a setting of the zns channel"):
        call_command(
            "set_channel", tenant_a.account.slug, "zns", "--access-token", "t", "--callback-url", "https://x.org"
        )
    assert not ChannelConfig.objects.exists()


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [("--daily-quota", "0", "daily_quota"), ("--burst", "many", "burst"), ("--rate-per-s", "0", "rate_per_s")],
)
def test_a_bad_value_is_refused_and_nothing_is_stored(tenant_a, option, value, field):
    with pytest.raises(CommandError, match=f"{field}: "):
        call_command(
            "set_channel", tenant_a.account.slug, "sms", "--api-base", "https://sms.example.org", option, value
        )
    assert not ChannelConfig.objects.exists()


def test_a_yes_no_field_wants_yes_or_no(tenant_a):
    with pytest.raises(CommandError, match="honours_idempotency_key: say yes or no"):
        call_command("set_channel", tenant_a.account.slug, "sms", "--honours-idempotency-key", "maybe")
    assert not ChannelConfig.objects.exists()


def test_an_empty_quota_goes_back_to_the_kinds_default(tenant_a, tenant_b):
    zns = ["--api-base", "https://openapi.zalo.me", "--access-token", "t"]
    call_command("set_channel", tenant_a.account.slug, "zns", *zns, "--daily-quota", "2000")
    call_command("set_channel", tenant_b.account.slug, "zns", *zns, "--daily-quota", "700")
    call_command("set_channel", tenant_a.account.slug, "zns", "--daily-quota", "")
    assert ChannelConfig.objects.get(account=tenant_a.account, kind="zns").daily_quota is None
    # the other agency's row is untouched
    assert ChannelConfig.objects.get(account=tenant_b.account, kind="zns").daily_quota == 700
