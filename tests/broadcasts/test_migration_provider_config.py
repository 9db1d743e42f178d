"""broadcasts 0005 folds ProviderConfig into the one channel configuration table (oa_platform.ChannelConfig):
every provider row becomes the (account, kind) configuration with the same values, and back."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as current_apps
from django.db import connection

from oa_platform.models import ChannelConfig
from tests.factories import migrate_to

migration = importlib.import_module("broadcasts.migrations.0005_providerconfig_into_channelconfig")

BEFORE = [("oa_platform", "0013_channelconfig_provider_fields"), ("broadcasts", "0004_delivery_sending")]
AFTER = [("broadcasts", "0005_providerconfig_into_channelconfig")]


@pytest.mark.postgres
@pytest.mark.django_db
def test_provider_rows_become_channel_configurations_and_back(tenant_a, tenant_b):
    # given: the schema before, A with an SMS gateway and a notice webhook beside its Zalo channel, B with ZNS
    old = migrate_to(BEFORE)
    Provider = old.get_model("broadcasts", "ProviderConfig")
    OldChannel = old.get_model("oa_platform", "ChannelConfig")
    OldChannel.objects.create(account_id=tenant_a.account.pk, kind="zalo", secret="zalo-secret")
    Provider.objects.create(
        account_id=tenant_a.account.pk,
        kind="sms",
        base_url="https://sms.example/api",
        api_key="sms-key",
        rate_per_s=7.5,
        burst=3,
        max_attempts=2,
        backoff_s=0.25,
        timeout_s=2.0,
        honours_idempotency_key=True,
    )
    Provider.objects.create(
        account_id=tenant_a.account.pk, kind="webhook", base_url="https://agency.example/hook", secret="hmac"
    )
    Provider.objects.create(
        account_id=tenant_b.account.pk,
        kind="zns",
        base_url="https://zns.example",
        api_key="zns-token",
        template_id="tpl-9",
        is_enabled=False,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # when
    new = migrate_to(AFTER)
    # then: one configuration per (account, kind), the provider's values under the one table's names
    Channel = new.get_model("oa_platform", "ChannelConfig")
    rows = {(c.account_id, c.kind): c for c in Channel.objects.all()}
    assert set(rows) == {
        (tenant_a.account.pk, "zalo"),
        (tenant_a.account.pk, "sms"),
        (tenant_a.account.pk, "webhook"),
        (tenant_b.account.pk, "zns"),
    }
    sms = rows[(tenant_a.account.pk, "sms")]
    assert (sms.api_base, sms.access_token, sms.rate_per_s, sms.burst, sms.max_attempts) == (
        "https://sms.example/api",
        "sms-key",
        7.5,
        3,
        2,
    )
    assert (sms.backoff_s, sms.timeout_s, sms.honours_idempotency_key, sms.is_enabled) == (0.25, 2.0, True, True)
    assert rows[(tenant_a.account.pk, "webhook")].secret == "hmac"
    zns = rows[(tenant_b.account.pk, "zns")]
    assert (zns.template_id, zns.access_token, zns.is_enabled) == ("tpl-9", "zns-token", False)
    assert rows[(tenant_a.account.pk, "zalo")].secret == "zalo-secret"
    # when migrated back, the provider rows come back and the chat channel stays
    old = migrate_to(BEFORE)
    Provider = old.get_model("broadcasts", "ProviderConfig")
    back = {(p.account_id, p.kind): p for p in Provider.objects.all()}
    assert set(back) == {(tenant_a.account.pk, "sms"), (tenant_a.account.pk, "webhook"), (tenant_b.account.pk, "zns")}
    assert (back[(tenant_a.account.pk, "sms")].base_url, back[(tenant_a.account.pk, "sms")].api_key) == (
        "https://sms.example/api",
        "sms-key",
    )
    assert list(old.get_model("oa_platform", "ChannelConfig").objects.values_list("kind", flat=True)) == ["zalo"]
    migrate_to(AFTER)


@pytest.mark.django_db
def test_the_migration_function_copies_every_field(tenant_a):
    """The forward function on any database: ProviderConfig rows stand in as plain objects."""
    provider = SimpleNamespace(
        account_id=tenant_a.account.pk,
        kind="sms",
        is_enabled=True,
        base_url="https://sms.example",
        api_key="k-1",
        secret="s-1",
        template_id="",
        timeout_s=3.0,
        rate_per_s=9.0,
        burst=2,
        max_attempts=5,
        backoff_s=1.5,
        honours_idempotency_key=True,
    )

    class Rows:
        def order_by(self, *_):
            return self

        def iterator(self):
            return iter([provider])

    fake_apps = SimpleNamespace(
        get_model=lambda app, name: (
            SimpleNamespace(objects=Rows()) if name == "ProviderConfig" else current_apps.get_model(app, name)
        )
    )
    migration.providers_into_channel_configs(fake_apps, None)
    migration.providers_into_channel_configs(fake_apps, None)  # twice: still one row
    config = ChannelConfig.objects.get(account=tenant_a.account, kind="sms")
    assert (config.api_base, config.access_token, config.secret) == ("https://sms.example", "k-1", "s-1")
    assert (config.timeout_s, config.rate_per_s, config.burst, config.max_attempts, config.backoff_s) == (
        3.0,
        9.0,
        2,
        5,
        1.5,
    )
    assert config.honours_idempotency_key is True
