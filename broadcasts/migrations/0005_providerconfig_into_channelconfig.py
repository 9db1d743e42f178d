"""Fold broadcasts' ProviderConfig (ZNS, SMS, notice webhook) into the one channel configuration table,
oa_platform.ChannelConfig (issue 13): one row per (account, channel type).

Field mapping: base_url -> api_base, api_key -> access_token; kind, is_enabled, secret, template_id, timeout_s,
rate_per_s, burst, max_attempts, backoff_s and honours_idempotency_key keep their names. Provider kinds never
collide with the chat kinds (zalo, wechat, generic), so (account, kind) stays unique. Reversible.
"""

from django.db import migrations

SAME_NAMES = (
    "kind",
    "is_enabled",
    "secret",
    "template_id",
    "timeout_s",
    "rate_per_s",
    "burst",
    "max_attempts",
    "backoff_s",
    "honours_idempotency_key",
)
PROVIDER_KINDS = ("zns", "sms", "webhook")


def providers_into_channel_configs(apps, schema_editor):
    ProviderConfig = apps.get_model("broadcasts", "ProviderConfig")
    ChannelConfig = apps.get_model("oa_platform", "ChannelConfig")
    for provider in ProviderConfig.objects.order_by("pk").iterator():
        values = {name: getattr(provider, name) for name in SAME_NAMES if name != "kind"}
        ChannelConfig.objects.update_or_create(
            account_id=provider.account_id,
            kind=provider.kind,
            defaults={**values, "api_base": provider.base_url, "access_token": provider.api_key},
        )


def channel_configs_into_providers(apps, schema_editor):
    ProviderConfig = apps.get_model("broadcasts", "ProviderConfig")
    ChannelConfig = apps.get_model("oa_platform", "ChannelConfig")
    for config in ChannelConfig.objects.filter(kind__in=PROVIDER_KINDS).order_by("pk").iterator():
        values = {name: getattr(config, name) for name in SAME_NAMES if name != "kind"}
        ProviderConfig.objects.update_or_create(
            account_id=config.account_id,
            kind=config.kind,
            defaults={**values, "base_url": config.api_base, "api_key": config.access_token},
        )
    ChannelConfig.objects.filter(kind__in=PROVIDER_KINDS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("broadcasts", "0004_delivery_sending"),
        ("oa_platform", "0013_channelconfig_provider_fields"),
    ]

    operations = [
        migrations.RunPython(providers_into_channel_configs, channel_configs_into_providers),
        migrations.RemoveConstraint(
            model_name="providerconfig",
            name="provider_unique_kind_per_account",
        ),
        migrations.DeleteModel(
            name="ProviderConfig",
        ),
    ]
